/**
 * Where pending device authorizations (RFC 8628) live between the device's request, the
 * user's approval on the verification page and the device's successful poll.
 * @packageDocumentation
 */

/** One device authorization request, as a {@link DeviceStore} keeps it. */
export interface DeviceAuthorization {
  /** SHA-256 of the `device_code` (`hashToken`); the code itself is never stored. */
  id: string;
  /** SHA-256 of the normalised `user_code` (`hashToken(normalizeUserCode(code))`); `undefined` once a decision used it. */
  userCode?: string;
  /** The client that asked. */
  clientId: string;
  /** The scopes asked for; on approval, the scopes granted. */
  scope: string[];
  /** The resource indicators asked for (RFC 8707 `resource`), when any. */
  resources?: string[];
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
  /** The polling interval in seconds (RFC 8628 §3.2), raised by 5 on every `slow_down` (§3.5). */
  interval: number;
  /** `pending` until the user decides on the verification page. */
  status: 'pending' | 'approved' | 'denied';
  /** The approving user's id (the tokens' `sub`). */
  userId?: string;
  /** When the device last polled, in milliseconds since the epoch. */
  lastPolledAt?: number;
}

/** What {@link DeviceStore.poll} returns. */
export interface PollResult {
  /** The record after this poll (its `interval` already raised when `slowDown`). */
  record: DeviceAuthorization;
  /** This poll came sooner than `interval` after the previous one: answer `slow_down`. */
  slowDown: boolean;
}

/**
 * Pending device authorizations. Every method that changes a record is atomic across
 * instances: of concurrent calls, exactly one decides, and exactly one consumes.
 *
 * A record stays until {@link DEVICE_RECORD_GRACE} seconds after `expiresAt`, so a late poll
 * can still be told `expired_token`; after that it may be dropped. `describeDeviceStore`
 * from `tokengate/testing` checks every rule below.
 */
export interface DeviceStore {
  /** Store a new request. Rejects when its `id` or `userCode` is already in use (the caller draws a new user code). */
  create(record: DeviceAuthorization): Promise<void>;
  /** The `pending`, unexpired request with this user code hash, or `undefined`. Never throws for an odd value. */
  findByUserCode(userCode: string, now: number): Promise<DeviceAuthorization | undefined>;
  /**
   * Decide the pending, unexpired request with this user code: approve it for `userId` with
   * these scopes, or deny it. Atomic; the user code is used up by it (`userCode` cleared).
   * Returns the decided record, or `undefined` when no pending request has that code.
   */
  decide(
    userCode: string,
    decision: { userId: string; scope: string[] } | 'denied',
    now: number,
  ): Promise<DeviceAuthorization | undefined>;
  /**
   * Record a poll of the request `id` at `nowMs` (ms): when it comes sooner than `interval`
   * seconds after the previous one, raise `interval` by 5 and say `slowDown`. Atomic, so
   * concurrent polls see each other. Expired records are returned too (the caller answers
   * `expired_token`); `undefined` when unknown.
   */
  poll(id: string, nowMs: number): Promise<PollResult | undefined>;
  /** Remove a decided (approved or denied) request and return it; exactly one concurrent caller gets it. `undefined` while pending or when unknown. */
  consume(id: string): Promise<DeviceAuthorization | undefined>;
}

/** Seconds a store keeps a request after it expired, so that polls learn `expired_token`. */
export const DEVICE_RECORD_GRACE = 600;
