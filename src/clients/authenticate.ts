/**
 * Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
 * `client_secret_post`, or `none` for a public client. One method per request.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { InvalidClient, InvalidRequest } from '../core/errors';
import type { Params } from '../core/http';
import type { Client, ClientStore } from '../stores/types';
import { verifyClientSecret } from '../core/crypto';

/** How the client authenticated, as RFC 8414 names the methods. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** An authenticated client and how it authenticated. */
export interface AuthenticatedClient {
  client: Client;
  method: ClientAuthMethod;
}

interface Credentials {
  clientId: string;
  /** Candidate secrets: the form-decoded one first, then the raw one if different. */
  secrets: string[];
  method: ClientAuthMethod;
}

// RFC 6749 Appendix B: id and secret are form-urlencoded before base64. Many clients skip
// that step, so a secret that does not decode, or decodes to something else, is also tried raw.
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function parseBasic(header: string, challenge: Record<string, string>): Credentials {
  const encoded = header.slice(6).trim();
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new InvalidClient('Client authentication failed.', challenge);
  const rawId = decoded.slice(0, colon);
  const rawSecret = decoded.slice(colon + 1);
  const clientId = formDecode(rawId) ?? rawId;
  const decodedSecret = formDecode(rawSecret);
  const secrets = decodedSecret === undefined || decodedSecret === rawSecret ? [rawSecret] : [decodedSecret, rawSecret];
  return { clientId, secrets, method: 'client_secret_basic' };
}

function credentials(req: IncomingMessage, params: Params, challenge: Record<string, string>): Credentials {
  const header = req.headers.authorization;
  const bodyId = params.client_id;
  const bodySecret = params.client_secret;
  if (header !== undefined && /^basic /i.test(header)) {
    const basic = parseBasic(header, challenge);
    if (bodySecret !== undefined) {
      throw new InvalidRequest('Use one client authentication method: HTTP Basic or client_secret in the body, not both.');
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new InvalidRequest('The client_id in the body does not match the one in the Authorization header.');
    }
    return basic;
  }
  if (bodyId === undefined || bodyId === '') throw new InvalidClient('Client authentication is required.');
  if (bodySecret !== undefined) return { clientId: bodyId, secrets: [bodySecret], method: 'client_secret_post' };
  return { clientId: bodyId, secrets: [], method: 'none' };
}

/**
 * Told about each client authentication, e.g. by the brute-force limits: `claimed` before the
 * secret is checked (it may throw to refuse the request), `failed` after an `invalid_client`.
 */
export interface ClientAuthHooks {
  /** The client id the request names; called before the client is looked up. */
  claimed(clientId: string): Promise<void>;
  /** Authentication failed; `clientId` is `undefined` when the request named none. */
  failed(clientId: string | undefined): Promise<void>;
}

/**
 * Authenticate the client of a token, revocation or introspection request. Unknown clients
 * and wrong secrets fail alike, in the response and in the work done (a constant-time compare
 * against a dummy hash when the client is unknown).
 */
export async function authenticateClient(
  req: IncomingMessage,
  params: Params,
  clients: ClientStore,
  basicChallenge: string,
  hooks?: ClientAuthHooks,
): Promise<AuthenticatedClient> {
  const usedBasic = /^basic /i.test(req.headers.authorization ?? '');
  const challenge: Record<string, string> = usedBasic ? { 'WWW-Authenticate': basicChallenge } : {};
  let creds: Credentials;
  try {
    creds = credentials(req, params, challenge);
  } catch (err) {
    if (err instanceof InvalidClient) await hooks?.failed(undefined);
    throw err;
  }
  await hooks?.claimed(creds.clientId);
  const client = await clients.findClient(creds.clientId);
  let ok: boolean;
  if (creds.method === 'none') {
    // A public client: it must exist and have no secret; a confidential one must prove itself.
    ok = client !== undefined && client.secretHash === undefined;
    if (!ok) verifyClientSecret('', undefined);
  } else {
    ok = false;
    for (const secret of creds.secrets) ok = verifyClientSecret(secret, client?.secretHash) || ok;
  }
  if (!ok || !client) {
    await hooks?.failed(creds.clientId);
    throw new InvalidClient('Client authentication failed.', challenge);
  }
  return { client, method: creds.method };
}
