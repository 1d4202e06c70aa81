/**
 * CORS (the Fetch standard's protocol) for the endpoints a browser-based client calls from
 * another origin: token, revocation and metadata. Never for the authorization endpoint, which
 * the browser navigates to instead of fetching. Credentials mode is never allowed
 * (`Access-Control-Allow-Credentials` is not sent): these endpoints take no cookies.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { checkKnownKeys, TokengateConfigError } from '../core/config';
import type { Handler, Request } from '../core/http';

/**
 * `options.cors`: which origins may call the token, revocation and metadata endpoints from a
 * browser.
 *
 * @example A SPA (public client "spa") on its own origin, with the code flow and PKCE
 * ```ts
 * oauthServer(stores, { issuer, cors: { clients: { spa: ['https://app.example.com'] } } });
 * ```
 */
export interface CorsOptions {
  /** Origins every client may call from (`https://app.example.com`: scheme, host, port), or `'*'` for any origin. Default: none. */
  origins?: readonly string[] | '*';
  /**
   * Origins per client id: a token or revocation response is readable from one of these
   * origins only when the request names that client (`client_id` or HTTP Basic).
   */
  clients?: Readonly<Record<string, readonly string[]>>;
  /** Seconds a browser may cache a preflight answer (`Access-Control-Max-Age`). Default 600. */
  maxAge?: number;
}

// DPoP: browser clients send their proofs in the DPoP header (RFC 9449 §4.1).
const ALLOW_HEADERS = 'Authorization, Content-Type, DPoP';
// So that a browser client can read the challenge of a 401, the wait of a 429 and the DPoP nonce (RFC 9449 §8).
const EXPOSE_HEADERS = 'WWW-Authenticate, Retry-After, DPoP-Nonce';
const VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

function checkOrigin(where: string, origin: unknown): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof origin === 'string' ? new URL(origin) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.origin !== origin || parsed.origin === 'null') {
    const hint = parsed && parsed.origin !== 'null' ? ` (did you mean "${parsed.origin}"?)` : '';
    throw new TokengateConfigError(
      'ERR_TOKENGATE_CORS_ORIGIN',
      `oauthServer: ${where} must list origins: scheme, host and optional port, without path or trailing slash, such as "https://app.example.com" (got ${JSON.stringify(origin)})${hint}.`,
    );
  }
  return parsed.origin;
}

/** The validated CORS policy of one server. */
export class CorsPolicy {
  private readonly any: boolean;
  private readonly global: ReadonlySet<string>;
  private readonly perClient: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every origin that some client may use: what a preflight, which names no client, is answered for. */
  private readonly known: ReadonlySet<string>;
  private readonly maxAge: string;

  constructor(options: CorsOptions) {
    const { origins, clients, maxAge } = options;
    this.any = origins === '*';
    if (origins !== undefined && origins !== '*' && !Array.isArray(origins)) {
      throw new TokengateConfigError(
        'ERR_TOKENGATE_TYPE',
        'oauthServer: options.cors.origins must be an array of origins such as ["https://app.example.com"], or "*".',
      );
    }
    this.global = new Set(
      origins === undefined || origins === '*' ? [] : origins.map((o) => checkOrigin('options.cors.origins', o)),
    );
    if (clients !== undefined && (clients === null || typeof clients !== 'object' || Array.isArray(clients))) {
      throw new TokengateConfigError(
        'ERR_TOKENGATE_TYPE',
        'oauthServer: options.cors.clients must map client ids to origin arrays, e.g. { spa: ["https://app.example.com"] }.',
      );
    }
    const perClient = new Map<string, ReadonlySet<string>>();
    const known = new Set(this.global);
    for (const [clientId, list] of Object.entries(clients ?? {})) {
      if (!Array.isArray(list))
        throw new TokengateConfigError(
          'ERR_TOKENGATE_TYPE',
          `oauthServer: options.cors.clients["${clientId}"] must be an array of origins.`,
        );
      const set = new Set(list.map((o) => checkOrigin(`options.cors.clients["${clientId}"]`, o)));
      perClient.set(clientId, set);
      for (const o of set) known.add(o);
    }
    this.perClient = perClient;
    this.known = known;
    if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) {
      throw new TokengateConfigError(
        'ERR_TOKENGATE_NUMBER',
        `oauthServer: options.cors.maxAge must be a whole number of seconds ≥ 0 (got ${String(maxAge)}).`,
      );
    }
    this.maxAge = String(maxAge ?? 600);
  }

  private allow(res: ServerResponse, origin: string): void {
    res.setHeader('Access-Control-Allow-Origin', this.any ? '*' : origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
  }

  /**
   * Wrap an endpoint: answer preflights from known origins, and make responses readable from
   * origins allowed for every client (or, with `anyClient`, from any configured origin: for
   * documents that belong to no client, such as the metadata).
   * A preflight from any other origin goes to the endpoint as a plain OPTIONS request.
   */
  wrap(methods: string, handler: Handler, anyClient = false): Handler {
    return (req, res, next) => {
      const origin = req.headers.origin;
      res.setHeader('Vary', VARY);
      if (origin === undefined) return handler(req, res, next);
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (preflight && (this.any || this.known.has(origin))) {
        this.allow(res, origin);
        res.setHeader('Access-Control-Allow-Methods', methods);
        res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
        res.setHeader('Access-Control-Max-Age', this.maxAge);
        res.setHeader('Content-Length', '0');
        res.statusCode = 204;
        res.end();
        return Promise.resolve();
      }
      if (!preflight && (this.any || this.global.has(origin) || (anyClient && this.known.has(origin))))
        this.allow(res, origin);
      return handler(req, res, next);
    };
  }

  /** Make this response readable from the request's origin if it is one of `clientId`'s. */
  allowClient(req: Request, res: ServerResponse, clientId: string): void {
    const origin = req.headers.origin;
    if (origin !== undefined && !res.headersSent && this.perClient.get(clientId)?.has(origin)) this.allow(res, origin);
  }
}

/** Validate `options.cors` once, at start-up; `undefined` when not configured. */
export function resolveCors(value: unknown): CorsPolicy | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_NUMBER',
      'oauthServer: options.cors must be { origins?, clients?, maxAge? }, e.g. { origins: ["https://app.example.com"] }.',
    );
  }
  checkKnownKeys('oauthServer: options.cors', value, ['origins', 'clients', 'maxAge']);
  return new CorsPolicy(value as CorsOptions);
}
