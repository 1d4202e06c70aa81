/**
 * The error codes OpenID Connect adds to the authorization endpoint's (OIDC Core §3.1.2.6).
 * They are redirected to the client like RFC 6749 §4.1.2.1's. An authorize hook may throw
 * one too, e.g. `InteractionRequired` when it cannot go on without showing a page while the
 * request said `prompt=none`.
 * @packageDocumentation
 */
import { OAuthError } from '../core/errors';

/** `login_required`: `prompt=none`, and nobody is signed in (or not recently enough for `max_age`). */
export class LoginRequired extends OAuthError {
  constructor(description = 'The user must sign in, which prompt=none does not allow.') {
    super('login_required', description, 400);
  }
}

/** `consent_required`: `prompt=none`, and the user has not consented to this request. */
export class ConsentRequired extends OAuthError {
  constructor(description = 'The user must consent, which prompt=none does not allow.') {
    super('consent_required', description, 400);
  }
}

/** `interaction_required`: `prompt=none`, and the app needs to show the user something. */
export class InteractionRequired extends OAuthError {
  constructor(description = 'The request needs the user to interact, which prompt=none does not allow.') {
    super('interaction_required', description, 400);
  }
}

/** `request_not_supported`: the `request` parameter (a request object) is not supported. */
export class RequestNotSupported extends OAuthError {
  constructor(
    description = 'Request objects (the "request" parameter) are not supported; send the parameters in the query.',
  ) {
    super('request_not_supported', description, 400);
  }
}

/** `request_uri_not_supported`: the `request_uri` parameter is not supported. */
export class RequestUriNotSupported extends OAuthError {
  constructor(description = 'The "request_uri" parameter is not supported; send the parameters in the query.') {
    super('request_uri_not_supported', description, 400);
  }
}

/** `registration_not_supported`: the `registration` parameter is not supported. */
export class RegistrationNotSupported extends OAuthError {
  constructor(description = 'The "registration" parameter is not supported.') {
    super('registration_not_supported', description, 400);
  }
}
