/**
 * `oauth.device`: what the app's verification page (RFC 8628 §3.3) calls. The page belongs to
 * the app, like its sign-in page: it signs the user in its own way, asks for the user code
 * (or takes `user_code` from `verification_uri_complete`), shows the client and scopes from
 * {@link DeviceVerification.lookup}, and approves or denies.
 *
 * Why an API and not hooks like `options.authorize`: the authorize endpoint is a protocol
 * endpoint that must answer with redirects, so the library drives it and asks the app; the
 * verification page is an ordinary page of the app with no protocol of its own, so the app
 * drives it and asks the library, which keeps the codes, the limits and the state.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { nowSeconds } from '../core/clock';
import { hashToken } from '../core/crypto';
import { InvalidScope } from '../core/errors';
import type { ServerContext } from '../endpoints/context';
import { addressKey, defaultRemoteAddress } from '../limits/remote-address';
import type { Client, User } from '../stores/types';
import { DeviceAttempts } from './attempts';
import type { ResolvedDeviceOptions } from './options';
import type { DeviceStore } from './types';
import { normalizeUserCode } from './user-code';

/** A pending device request, for the verification page to show. */
export interface PendingDeviceRequest {
  /** The client that asks (show its name, not only its id). */
  client: Client;
  /** The scopes it asks for. */
  scopes: readonly string[];
  /** The resources (RFC 8707) the tokens will be meant for; empty for the server's default audience. */
  resources: readonly string[];
  /** The user code in its display form (`WDJB-MJHT`). */
  userCode: string;
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
}

/**
 * The verification page's API (`oauth.device`). Every call takes the request, so that wrong
 * codes are counted per address (§5.1); too many answer by throwing a 429
 * `temporarily_unavailable` {@link TooManyRequests} error, which the page should show as
 * "try again later".
 *
 * @example
 * ```ts
 * app.post('/device', async (req, res) => {
 *   const user = req.session.user; // the app's own sign-in
 *   const ok = req.body.approve === 'yes'
 *     ? await oauth.device.approve(req, req.body.user_code, user)
 *     : await oauth.device.deny(req, req.body.user_code);
 *   res.send(ok ? 'Done: return to your device.' : 'That code is not valid.');
 * });
 * ```
 */
export interface DeviceVerification {
  /** The pending request this user code names, or `undefined` (wrong, expired or already used: counted as a failed attempt). */
  lookup(req: IncomingMessage, userCode: unknown): Promise<PendingDeviceRequest | undefined>;
  /**
   * Approve the request for `user` (its `id` becomes the tokens' `sub`), optionally with fewer
   * scopes than asked. `true` when approved; `false` when no pending request has this code.
   */
  approve(req: IncomingMessage, userCode: unknown, user: User, scopes?: readonly string[]): Promise<boolean>;
  /** Deny the request; the device's next poll gets `access_denied`. `false` when no pending request has this code. */
  deny(req: IncomingMessage, userCode: unknown): Promise<boolean>;
}

/** Build `oauth.device`. */
export function deviceVerification(
  ctx: ServerContext,
  devices: DeviceStore,
  options: ResolvedDeviceOptions,
): DeviceVerification {
  const attempts = new DeviceAttempts(options.attempts);
  const remote = ctx.options.bruteForce?.remoteAddress ?? defaultRemoteAddress;

  /** The store's key for a typed code, after the limits allow this address to try. */
  function key(req: IncomingMessage, typed: unknown): { address: string; id: string | undefined } {
    const address = addressKey(remote(req));
    attempts.check(address);
    const code = normalizeUserCode(typed);
    return { address, id: code === undefined ? undefined : hashToken(code) };
  }

  return {
    async lookup(req, typed) {
      const { address, id } = key(req, typed);
      const record = id === undefined ? undefined : await devices.findByUserCode(id, nowSeconds());
      const client = record && (await ctx.clients.findClient(record.clientId));
      if (!record || !client) {
        attempts.count(address);
        return undefined;
      }
      const code = normalizeUserCode(typed) as string;
      return {
        client,
        scopes: record.scope,
        resources: record.resources ?? [],
        userCode: `${code.slice(0, 4)}-${code.slice(4)}`,
        expiresAt: record.expiresAt,
      };
    },
    async approve(req, typed, user, scopes) {
      const { address, id } = key(req, typed);
      const record = id === undefined ? undefined : await devices.findByUserCode(id, nowSeconds());
      if (!record || id === undefined) {
        attempts.count(address);
        return false;
      }
      const granted = scopes === undefined ? record.scope : [...scopes];
      const wider = granted.find((s) => !record.scope.includes(s));
      if (wider !== undefined) throw new InvalidScope(`The scope "${wider}" was not asked for by the device.`);
      return (await devices.decide(id, { userId: user.id, scope: granted }, nowSeconds())) !== undefined;
    },
    async deny(req, typed) {
      const { address, id } = key(req, typed);
      const decided = id === undefined ? undefined : await devices.decide(id, 'denied', nowSeconds());
      if (!decided) attempts.count(address);
      return decided !== undefined;
    },
  };
}
