/**
 * The frame of every endpoint that authenticates clients (token, revocation, introspection;
 * next: device authorization, registration management, PAR): read the request, authenticate
 * the client through the one pipeline, run the endpoint, render. An endpoint supplies only
 * its own rules: what it validates before any client is looked up, and what it does for an
 * authenticated client.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { authenticateClient, readClientCredentials, type AuthenticatedClient } from '../clients/authenticate';
import { InvalidRequest } from '../core/errors';
import type { Handler, Params, Request } from '../core/http';
import { requestSecrets, withoutSecrets } from '../core/redact';
import { readParams } from '../http/body';
import { sendJson } from '../http/respond';
import type { Attempt } from '../limits/brute-force';
import type { ServerContext } from './context';

/** A request whose client is authenticated, as an endpoint's `handle` receives it. */
export interface ClientRequest {
  readonly req: Request;
  readonly res: ServerResponse;
  readonly params: Params;
  readonly auth: AuthenticatedClient;
  /** This request's brute-force limits (undefined when `bruteForce: false`), for a second credential such as a password. */
  readonly attempt: Attempt | undefined;
}

/** What an endpoint that authenticates clients adds to the frame. */
export interface ClientEndpoint {
  /** For messages and logs: `token`, `revocation`, `introspection`. */
  readonly name: string;
  /** Whether a client's own CORS origins (`options.cors.clients`) may read the answer. */
  readonly cors?: boolean;
  /**
   * Checks of the request's own parameters that need no client (a missing parameter, a
   * malformed value). They run before any client is looked up or limit is reserved, so a
   * malformed request costs no hash and leaves nothing in the limiters.
   */
  validate?(params: Params): void;
  /** The endpoint's work for an authenticated client: returns the 200 JSON body, or throws an OAuth error. */
  handle(request: ClientRequest): Promise<unknown>;
}

/** Build the handler of an endpoint that authenticates clients. */
export function clientEndpoint(ctx: ServerContext, endpoint: ClientEndpoint): Handler {
  const { options } = ctx;
  const what = `${endpoint.name} endpoint`;
  const { fail } = ctx;
  return async function clientAuthenticated(req, res, next) {
    let params: Params | undefined;
    try {
      if (req.method !== 'POST')
        throw new InvalidRequest(`The ${endpoint.name} endpoint accepts only POST.`, 405, { Allow: 'POST' });
      params = await readParams(req, options.maxBodyBytes, options.bodyTimeoutMs);
      endpoint.validate?.(params);
      const attempt = options.bruteForce?.attempt(req);
      await attempt?.admit();
      const claim = readClientCredentials(ctx, req, params);
      // Before authentication: a browser client must be able to read a 401 about itself too.
      if (endpoint.cors) options.cors?.allowClient(req, res, claim.credentials.clientId);
      const auth = await authenticateClient(ctx, claim, attempt);
      ctx.observer.identified(req, auth.client.id);
      sendJson(res, 200, await endpoint.handle({ req, res, params, auth, attempt }));
    } catch (err) {
      ctx.observer.failed(req, endpoint.name, err);
      fail(res, next, withoutSecrets(err, requestSecrets(req, params)), what);
    }
  };
}
