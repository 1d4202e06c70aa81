/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9), stateless: a nonce is a time window and an
 * HMAC of it under a server secret, so every instance with the same secret issues and accepts
 * the same nonces without sharing state. A nonce is accepted in its own window and the next.
 * @packageDocumentation
 */
import { createHmac, randomBytes } from 'node:crypto';
import { nowSeconds } from '../core/clock';
import { safeEqual } from '../core/crypto';

/** Issues and checks nonces for one secret and window length. */
export class NonceSource {
  private readonly secret: Buffer;
  private readonly windowSeconds: number;

  /**
   * @param secret - shared by every instance (at least 32 bytes); random when absent, which
   *   only works for a single instance
   * @param windowSeconds - how often the nonce rotates; a nonce stays valid up to twice this
   */
  constructor(secret: Buffer | undefined, windowSeconds: number) {
    this.secret = secret ?? randomBytes(32);
    this.windowSeconds = windowSeconds;
  }

  private forWindow(window: number): string {
    const mac = createHmac('sha256', this.secret)
      .update(`tokengate-dpop-nonce:${window}`)
      .digest('base64url')
      .slice(0, 32);
    return `${window.toString(36)}.${mac}`;
  }

  /** The nonce to hand out now. */
  current(now = nowSeconds()): string {
    return this.forWindow(Math.floor(now / this.windowSeconds));
  }

  /** Whether `nonce` is this server's nonce of the current or the previous window. */
  isValid(nonce: unknown, now = nowSeconds()): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false;
    const dot = nonce.indexOf('.');
    const window = parseInt(nonce.slice(0, dot), 36);
    const current = Math.floor(now / this.windowSeconds);
    if (dot <= 0 || !Number.isSafeInteger(window) || (window !== current && window !== current - 1)) return false;
    return safeEqual(nonce, this.forWindow(window));
  }
}
