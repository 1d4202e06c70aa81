/**
 * DPoP at a protected resource (RFC 9449 §7): the `DPoP` authorization scheme, the proof's
 * `htu` built from configured public origins (or a trusted proxy's headers, never the bare
 * `Host`), and the check that the proof's key is the one the token is bound to.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { InvalidDpopProof, InvalidRequest, InvalidToken } from '../core/errors';
import type { ResolvedDpop } from './options';
import type { DpopSettings } from './proof';
import { dpopHeader, verifyProof } from './proof';

/** Everything a guard needs to check DPoP-bound tokens. */
export type ResourceDpop = DpopSettings & ResolvedDpop;

// token68 (RFC 9110 §11.2), as RFC 9449 §7.1 uses for the DPoP scheme.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

/** Whether an Authorization header uses the `DPoP` scheme (case-insensitive). */
export function isDpopScheme(header: string | undefined): header is string {
  return (
    header !== undefined &&
    header.length > 5 &&
    header.charCodeAt(4) === 32 &&
    header.slice(0, 4).toLowerCase() === 'dpop'
  );
}

/** The access token of an `Authorization: DPoP <token>` header, or `invalid_request`. */
export function dpopToken(header: string): string {
  const token = header.slice(5).trim();
  if (token === '' || token.length > MAX_TOKEN_LENGTH || !TOKEN68.test(token))
    throw new InvalidRequest('The DPoP access token is malformed.');
  return token;
}

type ExpressLike = IncomingMessage & { originalUrl?: string; app?: { get?: (name: string) => unknown } };

function firstValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',', 1)[0]?.trim() || undefined;
}

// The origin a trusted reverse proxy reports, only when Express's `trust proxy` says the
// request came through one; a direct client's X-Forwarded-* headers are ignored.
function proxyOrigin(req: ExpressLike): string | undefined {
  // Express compiles its `trust proxy` setting into this function (address, hop index) => boolean.
  const trust = req.app?.get?.('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined;
  if (typeof trust !== 'function' || !trust(req.socket?.remoteAddress, 0)) return undefined;
  const proto = firstValue(req.headers['x-forwarded-proto']);
  const host = firstValue(req.headers['x-forwarded-host']);
  if ((proto !== 'http' && proto !== 'https') || host === undefined) return undefined;
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return undefined;
  }
}

function requestPath(req: ExpressLike): string {
  // Express and Connect keep the URL before mount points stripped it in originalUrl.
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.search(/[?#]/);
  try {
    return new URL(q === -1 ? url : url.slice(0, q), 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

/**
 * Check the proof of a `DPoP`-scheme request against the request and the access token, and
 * return its key's thumbprint (RFC 9449 §7.1, §4.3).
 */
export async function resourceProof(dpop: ResourceDpop, req: ExpressLike, token: string): Promise<string> {
  const proof = dpopHeader(req, 401);
  if (proof === undefined)
    throw new InvalidDpopProof('A DPoP proof is required with the DPoP authorization scheme (RFC 9449 §7.1).', 401);
  const path = requestPath(req);
  const matchesUri = (htu: URL): boolean =>
    htu.pathname === path && (dpop.origins.has(htu.origin) || (dpop.trustProxy && proxyOrigin(req) === htu.origin));
  const { jkt } = await verifyProof(dpop, proof, {
    method: req.method ?? 'GET',
    matchesUri,
    accessToken: token,
    status: 401,
  });
  return jkt;
}

/** The key thumbprint a validated token is bound to (`cnf.jkt`, RFC 9449 §6), if any. */
export function boundKey(claims: Readonly<Record<string, unknown>>): string | undefined {
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  return cnf !== undefined && cnf !== null && typeof cnf.jkt === 'string' ? cnf.jkt : undefined;
}

/**
 * The binding rule of RFC 9449 §7.1 and §7.2: a token sent with the DPoP scheme must be bound
 * to the proof's key; a bound token must not be sent as a bearer token.
 */
export function checkBinding(claims: Readonly<Record<string, unknown>>, proofJkt: string | undefined): void {
  const bound = boundKey(claims);
  if (proofJkt === undefined) {
    if (bound !== undefined)
      throw new InvalidToken(
        'This access token is bound to a DPoP key: send it with the DPoP scheme and a proof (RFC 9449 §7.2).',
      );
    return;
  }
  if (bound === undefined)
    throw new InvalidToken('This access token is not DPoP-bound; send it with the Bearer scheme.');
  if (bound !== proofJkt)
    throw new InvalidDpopProof(
      'The DPoP proof is not signed by the key the access token is bound to (RFC 9449 §7.1).',
      401,
    );
}
