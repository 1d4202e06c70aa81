/**
 * The per-route options of `requireToken()`, checked once when the guard is built: which
 * names exist (a misspelt `anyScope` must not leave a route open), and the type of each.
 * @packageDocumentation
 */
import { checkKnownKeys, configError } from '../core/config';
import type { Request } from '../core/http';
import { SCOPE_TOKEN } from '../core/scopes';
import type { AuthInfo } from './auth-info';

/** The app's own check of a token on a route: `true` lets the request through. */
export type TokenCheck = (auth: AuthInfo, req: Request) => boolean | Promise<boolean>;

/** Every option a guard accepts per route; anything else is refused when it is built. */
export const ROUTE_OPTION_NAMES = [
  'scope',
  'anyScope',
  'check',
  'optional',
  'allowBody',
  'allowQuery',
  'realm',
  'resource',
  'requireDpop',
  'errors',
] as const;

const AT = 'requireToken: options';

/**
 * A scope option as a frozen list: `'read'`, `'read write'` or `['read', 'write']`, each a
 * scope token of RFC 6749 §3.3. Empty when absent.
 */
export function scopeOption(name: string, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (typeof value !== 'string' && !(Array.isArray(value) && value.every((s) => typeof s === 'string')))
    configError(
      'ERR_TOKENGATE_REQUIRE_TOKEN',
      `${AT}.${name} must be a string ('read write') or an array of strings (['read', 'write']).`,
    );
  const list = typeof value === 'string' ? value.split(' ') : [...(value as string[])];
  const clean = list.filter((s) => s !== '');
  for (const s of clean) {
    if (!SCOPE_TOKEN.test(s))
      configError('ERR_TOKENGATE_SCOPE', `requireToken: scope "${s}" is not a valid scope token (RFC 6749 §3.3).`);
  }
  return Object.freeze(clean);
}

/** What the guard needs of `optional`, `anyScope` and `check`, checked. */
export interface RouteChecks {
  /** No token at all passes, without `req.auth`. */
  readonly optional: boolean;
  /** At least one of these scopes; `undefined` when the option is not used. */
  readonly anyScope: readonly string[] | undefined;
  /** The app's own check of the token, when given. */
  readonly check: TokenCheck | undefined;
}

/** Check the route options of `requireToken()`: known names, and `optional`, `anyScope`, `check`. */
export function checkRouteOptions(options: object): RouteChecks {
  checkKnownKeys(AT, options, ROUTE_OPTION_NAMES);
  const { optional, anyScope, check } = options as Record<string, unknown>;
  if (optional !== undefined && typeof optional !== 'boolean')
    configError('ERR_TOKENGATE_REQUIRE_TOKEN', `${AT}.optional must be true or false (got ${String(optional)}).`);
  const anyOf = anyScope === undefined ? undefined : scopeOption('anyScope', anyScope);
  if (anyOf !== undefined && anyOf.length === 0)
    configError(
      'ERR_TOKENGATE_REQUIRE_TOKEN',
      `${AT}.anyScope must name at least one scope; leave it out to require none.`,
    );
  if (check !== undefined && typeof check !== 'function')
    configError(
      'ERR_TOKENGATE_REQUIRE_TOKEN',
      `${AT}.check must be a function (auth, req) returning true to let the request through.`,
    );
  return {
    optional: optional === true,
    anyScope: anyOf,
    // Called as the method it may be written as (`check(auth, req) { ... }`).
    check: typeof check === 'function' ? (auth, req) => (check as TokenCheck).call(options, auth, req) : undefined,
  };
}
