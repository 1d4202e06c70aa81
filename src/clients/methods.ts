/**
 * Client authentication methods (RFC 6749 §2.3, named as in RFC 8414 / RFC 7591): each is a
 * small part that recognises its own presentation in a request, reads the client id and the
 * proof, and checks the proof against the registered client. The pipeline
 * (`clients/authenticate.ts`) picks the one method a request uses, applies the limits and
 * decides; a method never counts failures, sets headers or looks a client up itself.
 *
 * To add a method (e.g. `private_key_jwt`, RFC 7523 §2.2): write a {@link ClientAuthMethod}
 * whose `detect` sees `client_assertion_type`, whose `read` returns the `client_id` from the
 * assertion's `sub` with `proof: true`, and whose `verify` checks the assertion against the
 * client's registered keys; then add it to {@link BUILT_IN_METHODS} (before `none`).
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { verifyClientSecret } from '../core/crypto';
import { InvalidClient, InvalidRequest } from '../core/errors';
import type { Params } from '../core/http';
import type { Client } from '../stores/types';

/** How the client authenticated, as RFC 8414 names the methods. */
export type ClientAuthMethodName = 'client_secret_basic' | 'client_secret_post' | 'none' | (string & {});

/** What a method read from the request: who the client says it is, and how to check it. */
export interface PresentedCredentials {
  /** The method that read them. */
  readonly method: ClientAuthMethodName;
  /** The client id the request names. */
  readonly clientId: string;
  /**
   * Whether the request carries a proof that can be guessed (a secret, an assertion). Only a
   * failed proof counts against the brute-force limits; a request without one never does.
   * A public client that sends an empty secret (`Basic spa:`) has no proof: it is `none`.
   */
  readonly proof: boolean;
  /**
   * Check the proof against the registered client, `undefined` when the id is unknown: then
   * do the same work against nothing (unknown and wrong must take the same time) and fail.
   */
  verify(client: Client | undefined): boolean | Promise<boolean>;
}

/** One client authentication method. */
export interface ClientAuthMethod {
  /** The method's RFC 8414 name, e.g. `client_secret_basic`. */
  readonly name: ClientAuthMethodName;
  /** Whether the request presents credentials this way (a header, a parameter). Cheap, no I/O. */
  detect(req: IncomingMessage, params: Params): boolean;
  /**
   * Read the credentials. Throws `invalid_request` for a malformed presentation and
   * `invalid_client` (with `challenge` as headers) for unusable credentials.
   */
  read(req: IncomingMessage, params: Params, challenge: Record<string, string>): PresentedCredentials;
}

// RFC 6749 Appendix B: id and secret are form-urlencoded before base64. Many clients skip
// that step, so a secret that does not decode, or decodes to something else, is also tried raw.
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Credentials that are a client secret: any of `secrets` (candidate spellings) proves the client. */
function secretCredentials(
  method: ClientAuthMethodName,
  clientId: string,
  secrets: readonly string[],
): PresentedCredentials {
  return {
    method,
    clientId,
    proof: secrets.some((s) => s !== ''),
    verify(client) {
      let ok = false;
      // Every candidate is compared, so the work does not depend on which one matches.
      for (const secret of secrets) ok = verifyClientSecret(secret, client?.secretHash) || ok;
      return ok;
    },
  };
}

const isBasic = (req: IncomingMessage): boolean => /^basic /i.test(req.headers.authorization ?? '');

/** `client_secret_basic`: HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1). */
export const clientSecretBasic: ClientAuthMethod = {
  name: 'client_secret_basic',
  detect: (req) => isBasic(req),
  read(req, params, challenge) {
    const encoded = (req.headers.authorization as string).slice(6).trim();
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new InvalidClient('Client authentication failed.', challenge);
    const rawId = decoded.slice(0, colon);
    const rawSecret = decoded.slice(colon + 1);
    const clientId = formDecode(rawId) ?? rawId;
    if (params.client_secret !== undefined) {
      throw new InvalidRequest(
        'Use one client authentication method: HTTP Basic or client_secret in the body, not both.',
      );
    }
    if (params.client_id !== undefined && params.client_id !== clientId) {
      throw new InvalidRequest('The client_id in the body does not match the one in the Authorization header.');
    }
    const decodedSecret = formDecode(rawSecret);
    const secrets =
      decodedSecret === undefined || decodedSecret === rawSecret ? [rawSecret] : [decodedSecret, rawSecret];
    return secretCredentials('client_secret_basic', clientId, secrets);
  },
};

/** `client_secret_post`: `client_id` and `client_secret` in the body (RFC 6749 §2.3.1). */
export const clientSecretPost: ClientAuthMethod = {
  name: 'client_secret_post',
  detect: (_req, params) => params.client_secret !== undefined,
  read(_req, params) {
    const clientId = params.client_id;
    if (clientId === undefined || clientId === '') throw new InvalidClient('Client authentication is required.');
    return secretCredentials('client_secret_post', clientId, [params.client_secret as string]);
  },
};

/** `none`: a public client names itself with `client_id` and proves nothing (RFC 6749 §2.1, §3.2.1). */
export const noClientAuth: ClientAuthMethod = {
  name: 'none',
  detect: (_req, params) => params.client_id !== undefined && params.client_id !== '',
  read: (_req, params) => secretCredentials('none', params.client_id as string, ['']),
};

/**
 * The methods of every endpoint that authenticates clients, in the order they are tried: the
 * first whose `detect` matches reads the request. `none` comes last: it matches any request
 * that names a client.
 */
export const BUILT_IN_METHODS: readonly ClientAuthMethod[] = Object.freeze([
  clientSecretBasic,
  clientSecretPost,
  noClientAuth,
]);
