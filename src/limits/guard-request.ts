/**
 * What an endpoint that authenticates clients (token, revocation, introspection) does around
 * client authentication: refuse an address, client id or username past its brute-force
 * limit, count failures, and let the CORS policy see which client the request names.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import type { ClientAuthHooks } from '../clients/authenticate';
import type { ServerContext } from '../endpoints/context';
import type { Request } from '../core/http';

/** Client-authentication hooks for one request, plus the password-grant limit. */
export interface RequestGuard extends ClientAuthHooks {
  /** Run a password check under the per-username limit (see `Attempt.password`). */
  password<T>(username: string | undefined, check: () => Promise<T>): Promise<T>;
}

/**
 * Start guarding one request: refuses it (429) at once if its address is past its limit.
 * Pass the result to `authenticateClient` as its hooks. Give `res` for an endpoint with CORS
 * (token, revocation), so a client's own origins can read the response.
 *
 * @example
 * ```ts
 * const guard = await guardRequest(ctx, req, res);
 * const auth = await authenticateClient(req, params, ctx.clients, ctx.basicChallenge, guard);
 * ```
 */
export async function guardRequest(ctx: ServerContext, req: Request, res?: ServerResponse): Promise<RequestGuard> {
  const { bruteForce, cors } = ctx.options;
  const attempt = bruteForce?.attempt(req);
  await attempt?.admit();
  return {
    async claimed(clientId) {
      if (res) cors?.allowClient(req, res, clientId);
      await attempt?.claimed(clientId);
    },
    async failed(clientId) {
      await attempt?.failed(clientId);
    },
    password: (username, check) => (attempt ? attempt.password(username, check) : check()),
  };
}
