/**
 * Revoking every token of a deleted client (RFC 7592 §2.3) without an index from clients to
 * tokens: registered clients get ids with a recognisable prefix, and the tokens of such a
 * client also answer to one more revocation id, which a delete revokes.
 * @packageDocumentation
 */

/** The prefix of every `client_id` this server issues at registration (RFC 7591). */
export const REGISTERED_CLIENT_PREFIX = 'tgc_';

/** The revocation id that stands for "every token of this registered client", or `undefined` for a client not registered here. */
export function clientRevocationId(clientId: string): string | undefined {
  return clientId.startsWith(REGISTERED_CLIENT_PREFIX) ? `client:${clientId}` : undefined;
}
