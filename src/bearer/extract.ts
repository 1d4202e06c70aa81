/**
 * Finding the bearer token in a request (RFC 6750 §2): the Authorization header, and only
 * when enabled, the form body or the query string. More than one → `invalid_request`.
 * @packageDocumentation
 */
import { InvalidRequest } from '../core/errors';
import { readParams } from '../http/body';
import type { Request } from '../core/http';

/** Where `requireToken` may look for the token besides the Authorization header. */
export interface ExtractOptions {
  /** Accept `access_token` in a form-encoded body (RFC 6750 §2.2). Default false. */
  allowBody: boolean;
  /** Accept `access_token` in the query string (RFC 6750 §2.3; leaks into logs). Default false. */
  allowQuery: boolean;
  /** Body size limit when the body has to be read here. */
  maxBodyBytes: number;
  /** Body read deadline in milliseconds. Default: `readParams`'s (10 s). */
  bodyTimeoutMs?: number;
}

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="  (RFC 6750 §2.1)
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

function malformed(): InvalidRequest {
  return new InvalidRequest('The bearer token is malformed.');
}

/** The token of an `Authorization: Bearer` header; `undefined` for no header or another scheme. */
export function bearerFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // Case-insensitive scheme; another scheme (e.g. Basic) is simply not a bearer token.
  if (header.length < 7 || header.charCodeAt(6) !== 32 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(7).trim();
  if (token === '' || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) throw malformed();
  return token;
}

function fromQuery(url: string | undefined): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  if (q === -1) return undefined;
  const values = new URLSearchParams((url as string).slice(q + 1)).getAll('access_token');
  if (values.length > 1) throw new InvalidRequest('The access_token parameter is included more than once.');
  return values[0];
}

async function fromBody(req: Request, maxBodyBytes: number, bodyTimeoutMs: number | undefined): Promise<string | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  // RFC 6750 §2.2: only a single-part form body, and never for GET.
  if (type !== 'application/x-www-form-urlencoded' || req.method === 'GET' || req.method === 'HEAD') return undefined;
  const params = await readParams(req, maxBodyBytes, bodyTimeoutMs);
  // Leave the parsed body for the route, as a body parser would have.
  if (req.body === undefined) {
    req.body = { ...params };
    req._body = true;
  }
  return params.access_token;
}

/** The bearer token of this request, `undefined` if none; throws on a malformed or doubled one. */
export async function extractToken(req: Request, options: ExtractOptions): Promise<string | undefined> {
  const found: string[] = [];
  const header = bearerFromHeader(req.headers.authorization);
  if (header !== undefined) found.push(header);
  if (options.allowQuery) {
    const query = fromQuery(req.url);
    if (query !== undefined) found.push(query);
  }
  if (options.allowBody) {
    const body = await fromBody(req, options.maxBodyBytes, options.bodyTimeoutMs);
    if (body !== undefined) found.push(body);
  }
  if (found.length > 1) throw new InvalidRequest('Send the access token one way only (RFC 6750 §2).');
  const token = found[0];
  if (token !== undefined && header === undefined && (token === '' || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token))) throw malformed();
  return token;
}
