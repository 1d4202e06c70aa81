/**
 * The sign-in step of the authorization endpoint: asking the app's `authenticate` hook, in
 * either of its return shapes, and applying OpenID Connect's `prompt=none`, `prompt=login`
 * and `max_age` (OIDC Core §3.1.2.1, §3.1.2.3).
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { nowSeconds } from '../core/clock';
import { AccessDenied, ServerError } from '../core/errors';
import type { Logger } from '../core/logging';
import type { Request } from '../http/body';
import { LoginRequired } from '../oidc/errors';
import type { User } from '../stores/types';
import type { AuthorizeHooks, AuthorizeRequestInfo, SignedInUser } from './authorize-hooks';

/** `User` or `{ user, authTime, acr, amr }` from the hook, as one shape; throws on anything else. */
export function normaliseSignIn(result: unknown): SignedInUser | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result !== 'object')
    throw new Error('authorize.authenticate must return a user object, { user, authTime?, acr?, amr? }, or undefined.');
  const r = result as Record<string, unknown>;
  // The old shape is the user itself (with a string id); the new one wraps it.
  const wrapped = typeof r.id !== 'string' && r.user !== null && typeof r.user === 'object';
  const user = (wrapped ? r.user : r) as User;
  if (typeof user.id !== 'string' || user.id === '')
    throw new Error('authorize.authenticate must return a user object with a non-empty string id, or undefined.');
  if (!wrapped) return { user };
  const { authTime, acr, amr } = r;
  if (authTime !== undefined && (typeof authTime !== 'number' || !Number.isInteger(authTime) || authTime < 0)) {
    throw new Error(
      'authorize.authenticate: authTime must be whole seconds since the epoch (Math.floor(Date.now() / 1000) at sign-in).',
    );
  }
  if (acr !== undefined && typeof acr !== 'string') throw new Error('authorize.authenticate: acr must be a string.');
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((m) => typeof m === 'string')))
    throw new Error('authorize.authenticate: amr must be an array of strings.');
  return {
    user,
    authTime: authTime as number | undefined,
    acr: acr as string | undefined,
    amr: amr as string[] | undefined,
  };
}

// A session counts as fresh for max_age when it is no older than max_age seconds.
function fresh(signedIn: SignedInUser, maxAge: number | undefined): boolean {
  return maxAge === undefined || (signedIn.authTime !== undefined && nowSeconds() - signedIn.authTime <= maxAge);
}

/**
 * Ask `authenticate` who is signed in. `'responded'` when the hook answered the request
 * itself (e.g. redirected to the login page). A session older than `max_age` gets one more
 * call with `reauthenticate: true` (and a resume URL without `max_age`, so the sign-in that
 * follows is not asked again); under `prompt=none` it is `login_required` instead.
 */
export async function signIn(
  hooks: AuthorizeHooks,
  req: Request,
  res: ServerResponse,
  info: AuthorizeRequestInfo,
  reauthenticateInfo: () => AuthorizeRequestInfo,
  logger: Logger,
): Promise<SignedInUser | 'responded'> {
  const responded = (): boolean => res.headersSent || res.writableEnded;
  const silent = info.prompt.includes('none');
  // Once the hook has responded, what it returned is whatever the response helper returns
  // (`return res.redirect(...)`), not a user: it is not looked at.
  const returned = await hooks.authenticate(req, res, info);
  if (responded()) {
    if (silent)
      logger.warn(
        'authorize.authenticate responded to a prompt=none request; it should return undefined instead, and the client gets login_required.',
      );
    return 'responded';
  }
  let signedIn = normaliseSignIn(returned);
  if (signedIn !== undefined && !fresh(signedIn, info.maxAge)) {
    if (silent)
      throw new LoginRequired(
        'The sign-in is older than max_age; the user must sign in again, which prompt=none does not allow.',
      );
    const again = await hooks.authenticate(req, res, reauthenticateInfo());
    if (responded()) return 'responded';
    signedIn = normaliseSignIn(again);
    if (signedIn !== undefined && !fresh(signedIn, info.maxAge)) {
      if (signedIn.authTime === undefined) {
        logger.error(
          'authorize.authenticate did not report authTime, so max_age cannot be honoured: return { user, authTime } (seconds since the epoch of the sign-in).',
        );
        throw new ServerError();
      }
      throw new LoginRequired('The user did not sign in again although max_age asked for it.');
    }
  }
  if (signedIn === undefined) {
    if (silent) throw new LoginRequired();
    logger.warn(
      'authorize.authenticate returned no user and did not respond; the request was denied. Redirect to your login page and return undefined.',
    );
    throw new AccessDenied('The user is not signed in.');
  }
  return signedIn;
}
