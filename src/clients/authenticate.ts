/**
 * The one client-authentication pipeline (RFC 6749 §2.3), shared by every endpoint that
 * authenticates clients (token, revocation, introspection, and the ones to come): pick the one
 * method the request uses ({@link readClientCredentials}), then decide
 * ({@link authenticateClient}): look the client up, let a public client through, and check
 * any other proof under the brute-force limits.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { InvalidClient } from '../core/errors';
import type { Params } from '../core/http';
import type { Attempt } from '../limits/brute-force';
import type { ClientAuthenticationFailure } from '../observe/events';
import type { Client, ClientStore } from '../stores/types';
import {
  BUILT_IN_METHODS,
  type ClientAuthMethod,
  type ClientAuthMethodName,
  type PresentedCredentials,
} from './methods';

export {
  BUILT_IN_METHODS,
  type ClientAuthMethod,
  type ClientAuthMethodName,
  type PresentedCredentials,
} from './methods';

/** An authenticated client and how it authenticated. */
export interface AuthenticatedClient {
  client: Client;
  method: ClientAuthMethodName;
  /** RFC 7638 thumbprint of the key of the request's DPoP proof (RFC 9449), when it sent a valid one. */
  dpopJkt?: string;
}

/** Why a client failed to authenticate, and who it said it was: for `client.authentication_failed` events. */
export interface ClientAuthFailure {
  readonly reason: ClientAuthenticationFailure;
  readonly clientId?: string;
  readonly method?: string;
}

// The answer is the same for every failure (RFC 6749 §5.2); the reason is for the operator only.
const failures = new WeakMap<InvalidClient, ClientAuthFailure>();

function refused(err: InvalidClient, failure: ClientAuthFailure): InvalidClient {
  failures.set(err, failure);
  return err;
}

/** Why `err`, an `invalid_client` of this pipeline, was thrown; undefined for any other error. */
export function clientAuthFailure(err: unknown): ClientAuthFailure | undefined {
  return err instanceof InvalidClient ? failures.get(err) : undefined;
}

/** What the pipeline needs from its server. */
export interface ClientAuthContext {
  readonly clients: ClientStore;
  /** `WWW-Authenticate` value for a failed HTTP Basic client authentication. */
  readonly basicChallenge: string;
  /** The methods, in the order they are tried. Default {@link BUILT_IN_METHODS}. */
  readonly methods?: readonly ClientAuthMethod[];
}

/** The credentials a request presents, read by its one method, and the challenge for a failure. */
export interface ClientClaim {
  readonly credentials: PresentedCredentials;
  /** Headers for an `invalid_client` answer (the Basic challenge when Basic was used, RFC 6749 §5.2). */
  readonly challenge: Record<string, string>;
}

/**
 * Step 1: which client does the request name, and how does it prove it? Throws
 * `invalid_request` for two methods at once or a mismatch, `invalid_client` when no client is
 * named. Nothing is looked up or counted here.
 */
export function readClientCredentials(ctx: ClientAuthContext, req: IncomingMessage, params: Params): ClientClaim {
  const challenge: Record<string, string> = /^basic /i.test(req.headers.authorization ?? '')
    ? { 'WWW-Authenticate': ctx.basicChallenge }
    : {};
  const method = (ctx.methods ?? BUILT_IN_METHODS).find((m) => m.detect(req, params));
  if (!method)
    throw refused(new InvalidClient('Client authentication is required.', challenge), { reason: 'no_credentials' });
  return { credentials: method.read(req, params, challenge), challenge };
}

/**
 * A client that proves nothing when it authenticates: no secret, no keys, no other registered
 * method. Only such a client may use `none`; a private_key_jwt client (no secret, but keys) may not.
 */
export function isPublicClient(client: Client | undefined): client is Client {
  return (
    client !== undefined &&
    client.secretHash === undefined &&
    client.jwks === undefined &&
    client.jwksUri === undefined &&
    client.jwtSecret === undefined &&
    (client.tokenEndpointAuthMethod === undefined || client.tokenEndpointAuthMethod === 'none')
  );
}

// RFC 7591 token_endpoint_auth_method: a client registered for one method may use only that one.
const methodAllowed = (client: Client | undefined, method: string): boolean =>
  client?.tokenEndpointAuthMethod === undefined || client.tokenEndpointAuthMethod === method;

/**
 * Step 2: decide. A public client (no secret) that presents no proof is authenticated as
 * `none`; one that presents a secret fails without being counted (it has no secret to guess,
 * and counting would let anyone lock it out). Any other proof is checked under the limits:
 * reserved before, kept on failure, handed back otherwise. Unknown clients and wrong proofs
 * fail alike, in the answer and in the work done.
 */
export async function authenticateClient(
  ctx: ClientAuthContext,
  claim: ClientClaim,
  attempt?: Attempt,
): Promise<AuthenticatedClient> {
  const { credentials, challenge } = claim;
  const who = { clientId: credentials.clientId, method: credentials.method };
  const fail = (reason: ClientAuthFailure['reason']): InvalidClient =>
    refused(new InvalidClient('Client authentication failed.', challenge), { reason, ...who });
  const client = await ctx.clients.findClient(credentials.clientId);
  if (isPublicClient(client)) {
    if (!credentials.proof) return { client, method: 'none' };
    throw fail('public_client_sent_secret');
  }
  if (!credentials.proof) {
    await credentials.verify(client); // the same work as a wrong proof
    throw fail(client ? 'invalid_credentials' : 'unknown_client');
  }
  let registered = true;
  const verify = async (): Promise<boolean> =>
    (await credentials.verify(client)) && (registered = methodAllowed(client, credentials.method));
  // A method may refuse with its own invalid_client description (e.g. an expired assertion):
  // that is a failed proof too, and counts like a wrong secret.
  const failed = ({ value, error }: { value?: boolean; error?: unknown }): boolean =>
    (error === undefined && value === false) || error instanceof InvalidClient;
  let ok: boolean;
  try {
    ok = attempt ? await attempt.check({ kind: 'clientId', id: credentials.clientId }, verify, failed) : await verify();
  } catch (err) {
    if (err instanceof InvalidClient && !failures.has(err)) refused(err, { reason: 'invalid_credentials', ...who });
    throw err;
  }
  if (!client) throw fail('unknown_client');
  if (!ok) throw fail(registered ? 'invalid_credentials' : 'method_not_registered');
  return { client, method: credentials.method };
}
