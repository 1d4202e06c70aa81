/**
 * Scope parsing and granting (RFC 6749 §3.3).
 * @packageDocumentation
 */
import { InvalidScope } from './errors';

// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII without space, " and \.
/** One scope-token of RFC 6749 §3.3. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Split a `scope` parameter into its tokens; `undefined` when the parameter is absent. */
export function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const tokens = scope.split(' ').filter((token) => token !== '');
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token))
      throw new InvalidScope('The scope parameter contains a character RFC 6749 §3.3 does not allow.');
  }
  return [...new Set(tokens)];
}

/** What scope granting needs to know of a client (a `Client` of the client store fits). */
export interface ScopedClient {
  /** Every scope the client may be granted. */
  readonly scopes: readonly string[];
  /** Granted when the request names none. Default: all of `scopes`. */
  readonly defaultScopes?: readonly string[];
}

/**
 * The scopes to grant a client: what it asked for if it may have all of it, or its default
 * scopes if it asked for none (RFC 6749 §3.3).
 */
export function grantScopes(client: ScopedClient, requested: string[] | undefined): string[] {
  if (requested === undefined || requested.length === 0) return [...(client.defaultScopes ?? client.scopes)];
  for (const scope of requested) {
    if (!client.scopes.includes(scope)) throw new InvalidScope(`The client may not ask for the scope "${scope}".`);
  }
  return requested;
}

/**
 * The scopes of a refreshed token: the requested ones if they are within what the original
 * grant had (RFC 6749 §6: narrowing is allowed, widening is not), else all of the original.
 */
export function narrowScopes(granted: readonly string[], requested: string[] | undefined): string[] {
  if (requested === undefined || requested.length === 0) return [...granted];
  for (const scope of requested) {
    if (!granted.includes(scope)) throw new InvalidScope(`The scope "${scope}" was not part of the original grant.`);
  }
  return requested;
}
