/**
 * The fuzz harness (issue 8): servers under Express 4 (with body parsers in front, so parsed
 * and nested bodies reach the library), Express 5 and Connect, a token store that counts what
 * requests create and consume, fast-check arbitraries for hostile requests, and the invariants
 * every answer must keep.
 *
 * `npm test` runs each property with a fixed seed and a bounded number of cases; `npm run fuzz`
 * sets FUZZ_MULTIPLIER (more cases) and no fixed seed (new ones every run; fast-check prints the
 * seed and the shrunk counterexample of any failure, and FUZZ_SEED=... replays it).
 */
import http from 'node:http';
import fc from 'fast-check';
import {
  memoryStores,
  memoryTokenStore,
  oauthServer,
  type OAuthServer,
  type ServerOptions,
  type TokenStore,
  type UserStore,
} from '../../src';
import { CLIENTS as CODE_CLIENTS, HOOK_HEADERS, SPA_REDIRECT, testHooks, WEB_REDIRECT } from './authorization-code';
import { NO_LIMITS_HIT, send, type RawResponse } from './hardening';
import { basic, CLIENTS as SPINE_CLIENTS, ISSUER, listen, recordingLogger, type Framework } from './spine';

// ---------------------------------------------------------------------------------------------
// Run sizes and seeds

const MULTIPLIER = Number(process.env.FUZZ_MULTIPLIER ?? 1);
const LONG_RUN = MULTIPLIER > 1;

/** Report a failure with long strings shortened, so a 20 kB field does not drown the log. */
function fuzzReporter(details: fc.RunDetails<unknown>): void {
  if (!details.failed) return;
  const short = (v: unknown): unknown =>
    typeof v === 'string' && v.length > 120
      ? `${v.slice(0, 60)}…(${v.length} chars)`
      : Array.isArray(v)
        ? v.map(short)
        : v instanceof Uint8Array
          ? v
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, short(x)]))
            : v;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `Property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"; replay with FUZZ_SEED=${details.seed})\nCounterexample: ${JSON.stringify(short(details.counterexample))}\nCause: ${cause}`,
  );
}

/** fast-check parameters: `runs` cases (times FUZZ_MULTIPLIER), a fixed seed unless in a long run. */
export function fuzzParams(seed: number, runs: number): fc.Parameters<unknown> {
  const fixed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : LONG_RUN ? undefined : seed;
  return {
    numRuns: Math.round(runs * MULTIPLIER),
    ...(fixed === undefined ? {} : { seed: fixed }),
    endOnFailure: false,
    interruptAfterTimeLimit: LONG_RUN ? undefined : 60_000,
    reporter: fuzzReporter,
  };
}

/**
 * A minimum count that scales with the run size: a floor stated for the default run
 * (FUZZ_MULTIPLIER=1) becomes proportionally smaller in a shortened run, never larger.
 */
export function scaled(count: number): number {
  return Math.floor(count * Math.min(1, MULTIPLIER));
}

/** Jest timeout for a fuzz property: generous in long runs. */
export const FUZZ_TIMEOUT = LONG_RUN ? 3_600_000 : 60_000;

// ---------------------------------------------------------------------------------------------
// The servers under test

export const USER = { id: 'user-alice', username: 'alice@example.com', password: 'wonderland' };

/** A user store without scrypt: the property is about the endpoint, and thousands of hashes would take minutes. */
const fastUsers: UserStore = {
  async authenticate(username, password) {
    return username === USER.username && password === USER.password ? { id: USER.id, username } : undefined;
  },
};

/** Counts of what the token store was asked to create and what it really consumed. */
export interface StoreCounts {
  saves: number;
  consumed: number;
}

/** A memory token store that counts saves and successful (first) consumptions; `failing` makes every call throw. */
export function countingStore(): { store: TokenStore; counts: StoreCounts; setFailing(on: boolean): void } {
  const inner = memoryTokenStore();
  const counts: StoreCounts = { saves: 0, consumed: 0 };
  let failing = false;
  const fail = (): never => {
    // What a driver error looks like; its text must never reach a response.
    throw Object.assign(
      new Error('connection to 10.9.8.7:5432 lost while running INSERT INTO oauth_tokens VALUES ($1)'),
      { code: 'ECONNRESET' },
    );
  };
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (name === 'onRevoke') return value.bind(target);
      return async (...args: unknown[]) => {
        if (failing) fail();
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (name === 'save') counts.saves++;
        if (name === 'consume' && result && (result as { reused: boolean }).reused === false) counts.consumed++;
        return result;
      };
    },
  }) as TokenStore;
  return { store, counts, setFailing: (on) => (failing = on) };
}

/** Marks an answer of the app's own body parser (not the library's). */
export const APP_ERROR = 'x-fuzz-app-body-parser';

export type Variant = 'express4-parsed' | 'express5' | 'connect';
export const VARIANTS: Variant[] = ['express4-parsed', 'express5', 'connect'];

/** One server under test: its URL, its counting store, its logger, and fresh-credential minting. */
export interface FuzzServer {
  variant: Variant;
  url: string;
  oauth: OAuthServer;
  counts: StoreCounts;
  setStoreFailing(on: boolean): void;
  logger: ReturnType<typeof recordingLogger>;
  close(): Promise<void>;
}

export const ALL_CLIENTS = [...CODE_CLIENTS, ...SPINE_CLIENTS.filter((c) => c.id !== 'spa' && c.id !== 'no-refresh')];

/** Start a server of this variant: authorize hooks, CORS and limits high enough never to trigger. */
export async function startFuzzServer(variant: Variant, extra: Partial<ServerOptions> = {}): Promise<FuzzServer> {
  const framework: Framework = variant === 'express4-parsed' ? 'express4' : variant;
  const { store, counts, setFailing } = countingStore();
  const logger = recordingLogger();
  const stores = memoryStores({ clients: ALL_CLIENTS });
  const oauth = oauthServer(
    { clients: stores.clients, users: fastUsers, tokens: store },
    {
      issuer: ISSUER,
      logger,
      authorize: testHooks(framework, { authenticate: 0, consent: 0 }),
      bruteForce: NO_LIMITS_HIT,
      cors: { origins: ['https://app.example.com'], clients: { spa: ['https://spa.example.com'] } },
      ...extra,
    },
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const app = framework === 'connect' ? require('connect')() : require(framework)();
  if (variant === 'express4-parsed') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express4');
    // Parsed bodies reach the library as objects: nested (`a[b]=c`), arrays, JSON with __proto__.
    app.use(express.json({ limit: '1mb' }));
    app.use(express.urlencoded({ extended: true, limit: '1mb' }));
    // The app's own body parsers refuse some bodies (an unknown charset: 415) before the library
    // sees them; those answers are the app's, marked so that the invariants skip them.
    app.use((err: { status?: number }, _req: unknown, res: http.ServerResponse, next: (e?: unknown) => void) => {
      if (typeof err?.status !== 'number' || err.status >= 500) return next(err);
      res.statusCode = err.status;
      res.setHeader(APP_ERROR, '1');
      res.end();
    });
  }
  app.use(oauth);
  const me = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ sub: (req as unknown as { auth: { sub: string } }).auth.sub }));
  };
  app.use('/api/me', oauth.requireToken({ scope: 'read' }));
  app.use('/api/me', me);
  app.use('/api/body', oauth.requireToken({ allowBody: true, allowQuery: true }));
  app.use('/api/body', me);
  const server = await listen(app);
  return { variant, url: server.url, oauth, counts, setStoreFailing: setFailing, logger, close: server.close };
}

/** A fresh refresh token and access token for `clientId` (through the server's own issuer). */
export async function mintTokens(s: FuzzServer, clientId = 'web-app'): Promise<{ access: string; refresh: string }> {
  const client = await s.oauth.context.clients.findClient(clientId);
  if (!client) throw new Error(`no client ${clientId}`);
  const issued = await s.oauth.context.issuer.issue({
    client,
    grantType: 'password',
    sub: USER.id,
    userId: USER.id,
    scope: ['read'],
    refreshToken: true,
  });
  return { access: issued.access_token, refresh: issued.refresh_token as string };
}

/** A fresh authorization code for the SPA (through the authorize endpoint) and its PKCE verifier. */
export async function mintCode(s: FuzzServer): Promise<{ code: string; verifier: string }> {
  const verifier = 'v'.repeat(43);
  const { createHash } = await import('node:crypto');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'spa',
    redirect_uri: SPA_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const res = await send(s.url, `/oauth/authorize?${query}`, {
    method: 'GET',
    headers: { [HOOK_HEADERS.user]: USER.id },
  });
  const code = new URL(res.headers.location as string).searchParams.get('code');
  if (!code) throw new Error(`could not mint a code: ${res.status} ${res.headers.location}`);
  return { code, verifier };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Strings an attacker likes: injection, markup, odd Unicode, format characters. */
const nasty = fc.constantFrom(
  'abc\r\nSet-Cookie: pwned=1',
  'x\nLocation: https://evil.example',
  '"><script>alert(1)</script>',
  "';alert(1)//",
  '<img src=x onerror=alert(1)>',
  '%0d%0aSet-Cookie:%20pwned=1',
  '../../etc/passwd',
  '\u0000nul',
  '\u202egnp.exe',
  '\ud83d\ude00 emoji',
  '\ud800 lone surrogate',
  'ａｄｍｉｎ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '${7*7}{{7*7}}',
  'javascript:alert(1)',
  ' ',
  '',
);

/** Values that mean something to the server: real ids, secrets, grant types, URIs, scopes; placeholders for fresh credentials. */
const meaningful = fc.constantFrom(
  'client_credentials',
  'password',
  'refresh_token',
  'authorization_code',
  'web-app',
  'web-secret',
  'spa',
  'reader',
  'web',
  'alice@example.com',
  'wonderland',
  'read',
  'write',
  'read write',
  'admin',
  SPA_REDIRECT,
  WEB_REDIRECT,
  'https://evil.example/cb',
  'code',
  'token',
  'S256',
  'plain',
  'access_token',
  'refresh_token',
  '$REFRESH',
  '$ACCESS',
  '$CODE',
  '$VERIFIER',
);

const anyString = fc.oneof(
  { weight: 3, arbitrary: meaningful },
  { weight: 2, arbitrary: nasty },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }).map((n) => 'x'.repeat(n)) },
);

const PARAM_NAMES = [
  'grant_type',
  'client_id',
  'client_secret',
  'username',
  'password',
  'scope',
  'refresh_token',
  'code',
  'redirect_uri',
  'code_verifier',
  'response_type',
  'state',
  'code_challenge',
  'code_challenge_method',
  'token',
  'token_type_hint',
  'access_token',
  'nonce',
];

const paramName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PARAM_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      '__proto__[polluted]',
      'constructor[prototype][polluted]',
      'a[b][c]',
      'x[]',
      'toString',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Form fields: repeats allowed, which the server must refuse. */
export const fields = fc.array(fc.tuple(paramName, anyString), { maxLength: 10 });

/** A structured request: which fields, which way they are encoded, which credentials and method. */
export interface FuzzRequest {
  method: string;
  encoding:
    | 'form'
    | 'multipart'
    | 'multipart-truncated'
    | 'json'
    | 'proto-json'
    | 'deep-json'
    | 'text'
    | 'raw-bytes'
    | 'none'
    | 'odd-type';
  fields: [string, string][];
  auth: string | undefined;
  contentType: string;
  rawBytes: Uint8Array;
  query: [string, string][];
}

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(basic('web-app', 'web-secret')),
  fc.constant(basic('web-app', 'wrong')),
  fc.constant(basic('no-such', 'x')),
  fc.constant(basic('spa', '')),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([id, secret]) => basic(id, secret)),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => 'Basic ' + Buffer.from(s).toString('base64')),
  fc.constantFrom(
    'Basic',
    'Basic ',
    'Basic !!!',
    'Basic Og==',
    'Bearer abc',
    'Bearer',
    'Digest x',
    'basic d2ViLWFwcDp3ZWItc2VjcmV0',
    'Bearer $ACCESS',
  ),
);

/** Header values Node's client can send: tab, printable ASCII and Latin-1. */
const headerSafe = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((c) => c !== 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constant('POST') },
    { weight: 2, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
  ),
  encoding: fc.oneof(
    { weight: 6, arbitrary: fc.constant('form' as const) },
    { weight: 2, arbitrary: fc.constant('multipart' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'multipart-truncated',
        'json',
        'proto-json',
        'deep-json',
        'text',
        'raw-bytes',
        'none',
        'odd-type',
      ) as fc.Arbitrary<FuzzRequest['encoding']>,
    },
  ),
  fields,
  auth: authorization,
  contentType: headerSafe,
  rawBytes: fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    // Invalid UTF-8: lone continuation bytes, overlong encodings, surrogates, truncated sequences.
    fc.constantFrom(
      Uint8Array.from([0xff, 0xfe, 0x3d, 0x80]),
      Uint8Array.from([0x67, 0x72, 0x61, 0x6e, 0x74, 0x5f, 0x74, 0x79, 0x70, 0x65, 0x3d, 0xc0, 0xaf]),
      Uint8Array.from([0xed, 0xa0, 0x80, 0x3d, 0xf0, 0x9f]),
    ),
  ),
  query: fc.array(fc.tuple(paramName, anyString), { maxLength: 3 }),
});

/** The credentials a request's placeholders stand for, minted fresh for each case. */
export interface Fresh {
  access: string;
  refresh: string;
  code: string;
  verifier: string;
}

function fill(value: string, fresh: Fresh): string {
  return value
    .replace('$REFRESH', fresh.refresh)
    .replace('$ACCESS', fresh.access)
    .replace('$CODE', fresh.code)
    .replace('$VERIFIER', fresh.verifier);
}

function multipart(fields: [string, string][], boundary: string): string {
  return (
    fields
      .map(
        ([n, v]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${n.replace(/["\r\n]/g, '')}"\r\n\r\n${v}\r\n`,
      )
      .join('') + `--${boundary}--\r\n`
  );
}

/** Turn a structured request into headers and a body. */
export function encode(
  r: FuzzRequest,
  fresh: Fresh,
): {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  inputs: string[];
  pairs: [string, string][];
} {
  const f = r.fields.map(([n, v]) => [n, fill(v, fresh)] as [string, string]);
  const headers: Record<string, string> = {};
  if (r.auth !== undefined) headers.Authorization = fill(r.auth, fresh);
  let body: Buffer | undefined;
  switch (r.encoding) {
    case 'form':
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = Buffer.from(new URLSearchParams(f).toString());
      break;
    case 'multipart':
    case 'multipart-truncated': {
      headers['Content-Type'] = 'multipart/form-data; boundary=FuZz';
      const full = multipart(f, 'FuZz');
      body = Buffer.from(
        r.encoding === 'multipart' ? full : full.slice(0, Math.max(0, full.length - 1 - (full.length >> 2))),
      );
      break;
    }
    case 'json':
      headers['Content-Type'] = 'application/json';
      body = Buffer.from(JSON.stringify(Object.fromEntries(f)));
      break;
    case 'proto-json':
      headers['Content-Type'] = 'application/json';
      body = Buffer.from(
        `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"grant_type":"client_credentials","client_id":"web-app","client_secret":"web-secret"}`,
      );
      break;
    case 'deep-json':
      headers['Content-Type'] = 'application/json';
      body = Buffer.from('{"a":'.repeat(2000) + '1' + '}'.repeat(2000));
      break;
    case 'text':
      headers['Content-Type'] = 'text/plain';
      body = Buffer.from(new URLSearchParams(f).toString());
      break;
    case 'raw-bytes':
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = Buffer.from(r.rawBytes);
      break;
    case 'odd-type':
      headers['Content-Type'] = r.contentType;
      body = Buffer.from(new URLSearchParams(f).toString());
      break;
    case 'none':
      body = undefined;
      break;
  }
  if (r.method === 'GET' || r.method === 'HEAD') body = undefined;
  if (body === undefined) delete headers['Content-Type'];
  // Node itself answers 431 to a request line and headers over 16 kB, before any middleware: keep URLs shorter.
  const q = r.query.map(([n, v]) => [n, fill(v, fresh).slice(0, 1500)] as [string, string]);
  const query = q.length ? `?${new URLSearchParams(q)}` : '';
  const inputs = [...f.flat(), ...q.flat(), r.auth ?? '', r.contentType];
  return { method: r.method, path: query, headers, body, inputs, pairs: [...f, ...q] };
}

// ---------------------------------------------------------------------------------------------
// Invariants

const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'access_denied',
  'unsupported_response_type',
  'invalid_token',
  'insufficient_scope',
]);

/**
 * Inputs worth looking for in the output: long enough to be meaningful, and containing a
 * character that would matter if reflected raw there (CR/LF in a header; markup in HTML).
 */
function dangerous(inputs: string[], where: 'header' | 'html'): string[] {
  const pattern = where === 'header' ? /[<>"'\r\n]|\0/ : /[<>"']/;
  return inputs.filter((v) => v.length >= 3 && pattern.test(v));
}

/** No header carries a control character or a raw dangerous input. */
export function checkHeaders(res: RawResponse, inputs: string[]): void {
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) {
      if (/[\r\n]|\0/.test(v)) throw new Error(`header ${name} carries a control character: ${JSON.stringify(v)}`);
      for (const input of dangerous(inputs, 'header'))
        if (v.includes(input)) throw new Error(`header ${name} reflects raw input ${JSON.stringify(input)}`);
    }
  }
  if (res.headers['set-cookie'] !== undefined) throw new Error('a Set-Cookie header appeared');
}

/** A JSON endpoint's answer: never 5xx (unless `storeFailing`), JSON with no-store, the OAuth error shape on errors. */
export function checkJsonAnswer(res: RawResponse, inputs: string[], method: string, storeFailing = false): void {
  if (res.status >= 500 && !(storeFailing && (res.status === 500 || res.status === 503)))
    throw new Error(`status ${res.status}: ${res.text.slice(0, 200)}`);
  checkHeaders(res, inputs);
  if (res.status === 204 || res.headers[APP_ERROR] !== undefined) return; // a CORS preflight; the app's body parser
  if (res.headers['cache-control'] !== 'no-store')
    throw new Error(`Cache-Control is ${String(res.headers['cache-control'])}`);
  if (!/^application\/json/.test(String(res.headers['content-type'])))
    throw new Error(`Content-Type is ${String(res.headers['content-type'])}`);
  if (method === 'HEAD') return;
  const body = JSON.parse(res.text) as Record<string, unknown>;
  if (res.status >= 400) {
    if (typeof body.error !== 'string' || !OAUTH_ERRORS.has(body.error))
      throw new Error(`not an OAuth error: ${res.text.slice(0, 200)}`);
    if (typeof body.error_description !== 'string') throw new Error('error_description missing');
    if (/\n\s+at .+:\d+/.test(body.error_description)) throw new Error('a stack trace in error_description');
    if (storeFailing && res.status >= 500 && /10\.9\.8\.7|INSERT|ECONNRESET/.test(res.text))
      throw new Error('the store failure leaked into the response');
  }
}

/**
 * An authorization endpoint answer: never 5xx; a redirect only to a registered redirect URI
 * with its parameters properly encoded and `state` echoed exactly; otherwise an HTML error
 * page with every input escaped, or a response of the app's own hooks (the login redirect).
 */
export function checkAuthorizeAnswer(
  res: RawResponse,
  inputs: string[],
  sentState: string | undefined,
  method: string,
): void {
  if (res.status >= 500) throw new Error(`status ${res.status}: ${res.text.slice(0, 200)}`);
  checkHeaders(res, inputs);
  if (res.headers[APP_ERROR] !== undefined) return;
  const location = res.headers.location;
  if (location !== undefined) {
    if (location.startsWith('/login?next=')) return; // the test hooks' sign-in redirect
    if (!/^[\x21-\x7e]+$/.test(location)) throw new Error(`Location is not a clean URI: ${JSON.stringify(location)}`);
    const url = new URL(location);
    const registered = ALL_CLIENTS.flatMap((c) => c.redirectUris ?? []).map((u) => u.split('?')[0]);
    if (!registered.includes(`${url.origin}${url.pathname}`))
      throw new Error(`redirect to an unregistered URI: ${location}`);
    if (res.headers['cache-control'] !== 'no-store') throw new Error('a redirect without no-store');
    if (
      sentState !== undefined &&
      url.searchParams.get('state') !== null &&
      url.searchParams.get('state') !== sentState
    )
      throw new Error('state not echoed exactly');
    if (url.searchParams.get('error') !== null && !OAUTH_ERRORS.has(url.searchParams.get('error') as string))
      throw new Error(`unknown error code in redirect: ${location}`);
    return;
  }
  if (res.status >= 400 && method !== 'HEAD') {
    if (!/^text\/html/.test(String(res.headers['content-type'])))
      throw new Error(`error page is ${String(res.headers['content-type'])}`);
    if (res.headers['cache-control'] !== 'no-store') throw new Error('an error page without no-store');
    for (const input of dangerous(inputs, 'html'))
      if (res.text.includes(input)) throw new Error(`the error page reflects raw input ${JSON.stringify(input)}`);
    if (/<script/i.test(res.text)) throw new Error('a script element in the error page');
  }
}

/** Fail if anything was added to Object.prototype (prototype pollution through a parsed body). */
export function checkPrototypes(): void {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || Object.keys(Object.prototype).length > 0)
    throw new Error('Object.prototype was polluted');
}

/** The server still works: a client_credentials token, then a protected route with it. */
export async function checkHealthy(s: FuzzServer): Promise<void> {
  const res = await send(s.url, '/oauth/token', {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic('reader', 'reader-secret') },
    body: 'grant_type=client_credentials&scope=read',
  });
  if (res.status !== 200) throw new Error(`token request after fuzzing: ${res.status} ${res.text}`);
  const me = await send(s.url, '/api/me', {
    method: 'GET',
    headers: { Authorization: `Bearer ${res.json().access_token as string}` },
  });
  if (me.status !== 200) throw new Error(`protected route after fuzzing: ${me.status} ${me.text}`);
}
