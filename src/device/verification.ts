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
import { DeviceAttempts, deviceLimiterFactory } from './attempts';
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
 * "try again later" (as it should a 503 `temporarily_unavailable` when a shared limiter's
 * store cannot answer: the attempt is refused, never let through uncounted).
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
  const { bruteForce, logger } = ctx.options;
  const attempts = new DeviceAttempts(
    deviceLimiterFactory(options.createLimiter, bruteForce?.createLimiter),
    { name: 'tokengate:device-codes', ...options.attempts, refusal: 'Too many wrong codes' },
    logger,
  );
  const remote = bruteForce?.remoteAddress ?? defaultRemoteAddress;

  /**
   * Look a typed code up under the limits (§5.1): the attempt is reserved before the store is
   * asked; `undefined` from `look` (the code names no pending request) counts as a wrong code,
   * anything else hands the attempt back, and so does a throw (a store failure or a wider
   * scope is no guess).
   */
  async function withAttempt<T>(
    req: IncomingMessage,
    typed: unknown,
    look: (id: string, code: string) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const attempt = await attempts.begin(addressKey(remote(req)));
    const code = normalizeUserCode(typed);
    let result: T | undefined;
    try {
      result = code === undefined ? undefined : await look(hashToken(code), code);
    } catch (err) {
      await attempt.succeeded();
      throw err;
    }
    await (result === undefined ? attempt.failed() : attempt.succeeded());
    return result;
  }

  return {
    lookup: (req, typed) =>
      withAttempt(req, typed, async (id, code) => {
        const record = await devices.findByUserCode(id, nowSeconds());
        const client = record && (await ctx.clients.findClient(record.clientId));
        if (!record || !client) return undefined;
        return {
          client,
          scopes: record.scope,
          resources: record.resources ?? [],
          userCode: `${code.slice(0, 4)}-${code.slice(4)}`,
          expiresAt: record.expiresAt,
        };
      }),
    async approve(req, typed, user, scopes) {
      const decided = await withAttempt(req, typed, async (id) => {
        const record = await devices.findByUserCode(id, nowSeconds());
        if (!record) return undefined;
        const granted = scopes === undefined ? record.scope : [...scopes];
        const wider = granted.find((s) => !record.scope.includes(s));
        if (wider !== undefined) throw new InvalidScope(`The scope "${wider}" was not asked for by the device.`);
        // Decided by someone else meanwhile: not a guess, and not approved here.
        return (await devices.decide(id, { userId: user.id, scope: granted }, nowSeconds())) !== undefined;
      });
      return decided === true;
    },
    async deny(req, typed) {
      const decided = await withAttempt(req, typed, (id) => devices.decide(id, 'denied', nowSeconds()));
      return decided !== undefined;
    },
  };
}
