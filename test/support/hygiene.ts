/**
 * Error hygiene (issue 8): what may never appear in a response or a log. The rules, applied
 * by {@link HygieneCollector} to every HTTP exchange and log line it is shown:
 *
 * 1. A request's own credentials (client secret, password, Basic secret, code verifier,
 *    presented refresh token or code, `token`, assertions) never come back in its response;
 *    bearer tokens not in an error response (an app's route may echo its own caller's token).
 * 2. Known fixture secrets never appear in any response.
 * 3. No credential presented in any request, no token or code issued in any response, and no
 *    fixture secret ever appears in a log line (console output or a logger's lines).
 * 4. The library's default console output (`[tokengate] ...`) never holds a stack trace.
 * 5. An error response never holds a stack trace or an issued token.
 *
 * `hygiene-setup.ts` feeds it every exchange of every server in the test process and every
 * log line of the test run; `test/security/hygiene.test.ts` checks the rules themselves.
 */
import { appendFileSync } from 'node:fs';

/** Secrets of the shared fixtures (test/support/*.ts); add new fixture secrets here. */
export const FIXTURE_SECRETS = [
  'web-secret',
  'wonderland',
  'a-b_c%d:e+f g',
  'reader-secret',
  'no-refresh-secret',
  'other-secret',
  'orders-secret',
  'single-secret',
  'machine-secret',
  'no-redirect-secret',
  'builder-bob-7',
  'rp-oidc-secret',
];

// Parameters whose values are credentials the server must never repeat.
const NEVER_ECHOED = [
  'client_secret',
  'password',
  'code_verifier',
  'refresh_token',
  'code',
  'token',
  'client_assertion',
  'assertion',
];
// Bearer tokens: an app route may echo its own caller's token; an error never may.
const NOT_IN_ERRORS = ['access_token'];

const STACK = /\n\s+at .+[(\s]\S+:\d+:\d+\)?/;
const TOKENISH = /[A-Za-z0-9_\-.~+/]{20,}=*/g;

/**
 * A value worth looking for: long and varied enough not to occur by chance, and not a plain
 * word (a fuzzer's `code=refresh_token` may meet "refresh_token" in any JSON answer).
 */
function distinctive(value: string): boolean {
  return value.length >= 8 && new Set(value).size >= 5 && !/\s/.test(value) && !/^[A-Za-z_]+$/.test(value);
}

/** One request and its answer, as seen on the server. */
export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  requestBody: string;
  status: number;
  /** The raw response head (status line and headers). */
  responseHead: string;
  responseBody: string;
}

/** The credentials of a request, by how strictly they must be kept out of its response. */
export interface Presented {
  /** Never in the response. */
  strict: string[];
  /** Not in an error response. */
  bearer: string[];
  /** Values sent as ordinary parameters (state, scope, client_id, ...), which may legitimately come back. */
  ordinary: string[];
}

function formPairs(text: string): [string, string][] {
  try {
    return [...new URLSearchParams(text)];
  } catch {
    return [];
  }
}

function multipartPairs(body: string): [string, string][] {
  const pairs: [string, string][] = [];
  const part = /name="([^"]*)"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*?\r\n([\s\S]*?)\r\n--/g;
  for (let m = part.exec(body); m; m = part.exec(body)) pairs.push([m[1] as string, m[2] as string]);
  return pairs;
}

function jsonPairs(body: string): [string, string][] {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (!parsed || typeof parsed !== 'object') return [];
    return Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string');
  } catch {
    return [];
  }
}

function header(headers: Exchange['requestHeaders'], name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** Every parameter of a request: query, and body as form, multipart or JSON. */
function requestPairs(x: Exchange): [string, string][] {
  const q = x.url.indexOf('?');
  const pairs = q === -1 ? [] : formPairs(x.url.slice(q + 1));
  const type = header(x.requestHeaders, 'content-type').toLowerCase();
  if (type.startsWith('multipart/')) pairs.push(...multipartPairs(x.requestBody));
  else if (type.includes('json')) pairs.push(...jsonPairs(x.requestBody));
  else pairs.push(...formPairs(x.requestBody));
  return pairs;
}

/** The credentials a request carries. Values that also appear as ordinary parameters are left out. */
export function presented(x: Exchange): Presented {
  const pairs = requestPairs(x);
  const strict = new Set<string>();
  const bearer = new Set<string>();
  for (const [name, value] of pairs) {
    if (NEVER_ECHOED.includes(name)) strict.add(value);
    if (NOT_IN_ERRORS.includes(name)) bearer.add(value);
  }
  const auth = header(x.requestHeaders, 'authorization');
  const space = auth.indexOf(' ');
  const credential = space === -1 ? '' : auth.slice(space + 1).trim();
  if (/^basic /i.test(auth)) {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    const secret = decoded.slice(decoded.indexOf(':') + 1);
    strict.add(secret);
    try {
      strict.add(decodeURIComponent(secret.replace(/\+/g, ' ')));
    } catch {
      // not form-encoded
    }
  } else if (/^bearer /i.test(auth)) {
    bearer.add(credential);
  }
  // A value that is also an ordinary parameter (a fuzzer's password=client_credentials) may be echoed as that.
  const ordinary = new Set(
    pairs.filter(([n]) => !NEVER_ECHOED.includes(n) && !NOT_IN_ERRORS.includes(n)).flatMap(([n, v]) => [n, v]),
  );
  const keep = (v: string): boolean => distinctive(v) && ![...ordinary].some((o) => o.includes(v));
  return { strict: [...strict].filter(keep), bearer: [...bearer].filter(keep), ordinary: [...ordinary] };
}

/** Tokens and codes a response hands out: token response members and the `code` of a redirect. */
export function issued(x: Exchange): string[] {
  const found: string[] = [];
  if (x.status >= 200 && x.status < 300 && x.responseBody.startsWith('{')) {
    try {
      const body = JSON.parse(x.responseBody) as Record<string, unknown>;
      for (const name of ['access_token', 'refresh_token', 'id_token'])
        if (typeof body[name] === 'string') found.push(body[name] as string);
    } catch {
      // not JSON
    }
  }
  const location = /\r\nlocation: ([^\r\n]*)/i.exec(x.responseHead)?.[1];
  if (location) {
    try {
      const code = new URL(location, 'http://relative.invalid').searchParams.get('code');
      if (code) found.push(code);
    } catch {
      // not a URL
    }
  }
  return found.filter((t) => t.length >= 16);
}

/** Collects exchanges and log lines, and the rule violations among them. */
export class HygieneCollector {
  readonly violations: string[] = [];
  private readonly seenSecrets = new Set<string>(FIXTURE_SECRETS);
  private readonly issuedTokens = new Set<string>();
  private readonly logs: { source: string; text: string; library: boolean }[] = [];

  /**
   * Check one exchange (rules 1, 2 and 5) and remember its secrets and tokens for the logs.
   * Rules 1 and 2 concern the library's answers (its paths, or an OAuth error body); an app's
   * own pages (a demo login page showing the demo password) are the app's business.
   */
  exchange(x: Exchange): void {
    const where = `${x.method} ${x.url.split('?')[0]} → ${x.status}`;
    const text = `${x.responseHead}\n${x.responseBody}`;
    const p = presented(x);
    const library = /\/(oauth|\.well-known)\//.test(x.url) || /^\{"error":"/.test(x.responseBody);
    if (library) {
      for (const s of p.strict)
        if (text.includes(s))
          this.violate(`${where}: the response repeats a credential of its request (${mask(s)})`, x);
      if (x.status >= 400)
        for (const s of p.bearer)
          if (text.includes(s)) this.violate(`${where}: the error response repeats the request's bearer token`);
      for (const s of FIXTURE_SECRETS) {
        if (text.includes(s) && !p.ordinary.some((o) => o.includes(s)))
          this.violate(`${where}: the response contains the fixture secret ${mask(s)}`, x);
      }
    }
    if (x.status >= 400) {
      if (STACK.test(x.responseBody)) this.violate(`${where}: the error response contains a stack trace`);
      // A token the request itself carries may be quoted back (an unknown client_id shown on the error page).
      const own = `${x.url}\n${x.requestBody}\n${JSON.stringify(x.requestHeaders)}`;
      for (const candidate of text.match(TOKENISH) ?? []) {
        if (this.issuedTokens.has(candidate) && !own.includes(candidate))
          this.violate(`${where}: the error response contains an issued token`);
      }
    }
    for (const s of [...p.strict, ...p.bearer]) this.seenSecrets.add(s);
    for (const t of issued(x)) this.issuedTokens.add(t);
  }

  /** Remember a log line; `library` when it is the library's default console output. */
  log(source: string, text: string, library: boolean): void {
    this.logs.push({ source, text, library });
  }

  /** Apply rules 3 and 4 to every log line seen; returns all violations. */
  finish(): string[] {
    const secrets = [...this.seenSecrets];
    for (const { source, text, library } of this.logs) {
      const line = text.length > 120 ? `${text.slice(0, 120)}…` : text;
      for (const s of secrets)
        if (text.includes(s)) this.violate(`${source} "${line}": contains the credential ${mask(s)}`);
      for (const candidate of text.match(TOKENISH) ?? [])
        if (this.issuedTokens.has(candidate)) this.violate(`${source} "${line}": contains an issued token`);
      if (library && STACK.test(text)) this.violate(`${source} "${line}": the default logger printed a stack trace`);
    }
    this.logs.length = 0;
    return this.violations;
  }

  private violate(message: string, evidence?: unknown): void {
    if (this.violations.length < 50 && !this.violations.includes(message)) this.violations.push(message);
    // HYGIENE_DEBUG=/path/file.jsonl: the full evidence of each violation, for reproducing it.
    if (process.env.HYGIENE_DEBUG)
      appendFileSync(process.env.HYGIENE_DEBUG, `${JSON.stringify({ message, evidence })}\n`);
  }
}

/** Enough of a secret to recognise it in a report, not enough to use it. */
function mask(secret: string): string {
  return `"${secret.slice(0, 3)}…" (${secret.length} chars)`;
}
