/**
 * What the token-store kit's rules share: the harness type, lazily created stores, and
 * records made the way the library makes them (random token, stored under its hash).
 * @packageDocumentation
 */
import { hashToken, randomToken } from '../core/crypto';
import type { TokenKind, TokenRecord, TokenStore } from '../stores/types';
import type { ItFn, KitTestApi } from './harness';
import { marker, nowSeconds } from './harness';

/**
 * How {@link describeTokenStore} reaches the store under test.
 *
 * @example
 * ```ts
 * describeTokenStore('redisTokenStore', {
 *   create: async () => { const s = redisTokenStore(redis); await s.ready(); return s; },
 *   dump: async () => { const keys = await redis.keys('tokengate:*'); return Promise.all(keys.map(async (k) => [k, await redis.dump(k)])); },
 *   peer: async () => { const s = redisTokenStore(redis.duplicate()); await s.ready(); return s; },
 * });
 * ```
 */
export interface TokenStoreHarness extends KitTestApi {
  /**
   * The store under test. Called once, by the first test that needs it; the kit never expects
   * an empty store (every id it uses is random), so it may share a database with other tests.
   * Resolve only once the store is ready, e.g. connected and subscribed to peers' revocations.
   */
  create(): TokenStore | Promise<TokenStore>;
  /**
   * Everything the store wrote, as stored: table rows, key/value pairs, documents; strings,
   * `Buffer`s, arrays, objects and `Map`s are all searched. The kit checks that it holds the
   * hashed ids it saved and never the raw tokens they came from.
   */
  dump(): unknown;
  /**
   * A second instance over the same backend, as another process of the app would create it;
   * omit for an in-process store. With it, the kit checks that single use, records and
   * revocations hold across instances. Resolve only once it is ready, like `create`.
   */
  peer?(): TokenStore | Promise<TokenStore>;
  /** How many concurrent `consume` calls race for one token. Default 25. */
  concurrency?: number;
  /**
   * How long, in seconds, a peer may take to tell its listeners of a revocation made
   * elsewhere. Default 2. (Formerly `propagationMs`, in milliseconds.)
   */
  propagationTimeout?: number;
}

/** The kit's view of one `describeTokenStore` call. */
export interface TokenKit {
  it: ItFn;
  harness: TokenStoreHarness;
  store(): Promise<TokenStore>;
  /** Whether the harness has a `peer`; the two-instance rules are registered only then. */
  hasPeer: boolean;
  peer(): Promise<TokenStore>;
  concurrency: number;
  propagationMs: number;
}

/** A record and the raw token it stands for. */
export interface Minted {
  raw: string;
  record: TokenRecord;
}

/** A record as the library would save it: random token, hashed id, optional fields of its kind. */
export function mint(kind: TokenKind, over: Partial<TokenRecord> = {}): Minted {
  const raw = randomToken();
  const now = nowSeconds();
  const record: TokenRecord = {
    kind,
    id: hashToken(raw),
    familyId: marker('kit-family'),
    clientId: 'kit-client',
    sub: 'kit-user',
    userId: 'kit-user',
    scope: ['read', 'write'],
    issuedAt: now,
    expiresAt: now + 600,
    // RFC 8707: the granted resources (a code's, a refresh family's, an opaque token's aud).
    resources: ['https://mcp.example.com/mcp', 'https://api.example.com/'],
    // A DPoP key binding (RFC 9449 §5, §6, §10): every kind may carry one.
    jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I',
  };
  if (kind === 'authorization_code') {
    record.redirectUri = 'https://client.example/cb?x=1';
    record.codeChallenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    record.codeChallengeMethod = 'S256';
  }
  return { raw, record: { ...record, ...over } };
}

/** Every kind of record a token store keeps. */
export const KINDS: readonly TokenKind[] = ['access_token', 'refresh_token', 'authorization_code'];
/** The kinds that are consumed once. */
export const SINGLE_USE: readonly TokenKind[] = ['refresh_token', 'authorization_code'];

/** Ids no store has: well-formed, empty, huge, and the kinds of string that break naive queries. */
export function oddIds(): string[] {
  return [
    hashToken(randomToken()),
    '',
    'x'.repeat(4096),
    "'; DROP TABLE tokens; --",
    'nul\u0000byte',
    'ünïcødé-🙂',
    '%_*?[]{}\\',
    '\uD800',
  ];
}
