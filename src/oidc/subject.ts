/**
 * Subject identifiers (OpenID Connect Core §8): public (the user id) or pairwise (a
 * different, unlinkable `sub` for each sector, §8.1).
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { Client } from '../stores/types';

/**
 * The client's sector identifier (§8.1): the host of its `sectorIdentifierUri`, or else the
 * one host of its redirect URIs. `undefined` when neither gives exactly one host.
 */
export function sectorOf(client: Client): string | undefined {
  if (client.sectorIdentifierUri !== undefined) {
    try {
      return new URL(client.sectorIdentifierUri).host || undefined;
    } catch {
      return undefined;
    }
  }
  const hosts = new Set<string>();
  for (const uri of client.redirectUris ?? []) {
    try {
      hosts.add(new URL(uri).host);
    } catch {
      return undefined;
    }
  }
  return hosts.size === 1 ? [...hosts][0] : undefined;
}

/** Why a client cannot have pairwise subjects, or `undefined` when it can. */
export function pairwiseProblem(client: Client, salt: Buffer | undefined): string | undefined {
  if (client.subjectType !== 'pairwise') return undefined;
  if (!salt) return 'The client asks for pairwise subjects but the server has no options.openid.pairwiseSalt.';
  if (sectorOf(client) === undefined)
    return 'The client asks for pairwise subjects but its redirect URIs span several hosts and it has no sectorIdentifierUri (OIDC Core §8.1).';
  return undefined;
}

/**
 * The `sub` this client sees for a user: the user id, or for a pairwise client
 * `base64url(SHA-256(sector || local id || salt))` (§8.1's suggested construction), with the
 * parts length-prefixed so that no two (sector, id) pairs can run together.
 */
export function subjectFor(client: Client, localSub: string, salt: Buffer | undefined): string {
  if (client.subjectType !== 'pairwise') return localSub;
  const sector = sectorOf(client);
  if (!salt || sector === undefined) throw new Error(pairwiseProblem(client, salt));
  const hash = createHash('sha256');
  for (const part of [sector, localSub]) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.update(salt).digest('base64url');
}
