/**
 * Property-based fuzzing (issue 8) of the token, authorization, revocation and introspection
 * endpoints and of bearer-header parsing, under Express 4 (with body parsers in front),
 * Express 5 and Connect. Random methods, content types, invalid UTF-8, huge, empty and repeated
 * fields, truncated multipart bodies, CR/LF and markup in every parameter, nested and
 * prototype-polluting bodies, and fresh valid credentials mixed in so that requests get deep.
 *
 * Invariants, for every case: never a 5xx (except the deliberate store failure); JSON endpoints
 * answer JSON with `no-store` and, on errors, the OAuth error shape; no control character or
 * raw hostile input in a header; the authorization endpoint redirects only to registered URIs
 * with encoded parameters, or shows an escaped HTML page; a failed request creates and consumes
 * no record; Object.prototype stays clean; and the server answers normally afterwards.
 *
 * `npm test`: fixed seeds, about 4 000 cases. `npm run fuzz`: 25 times as many, new seeds.
 */
import fc from 'fast-check';
import { InvalidRequest } from '../../src';
import { bearerFromHeader } from '../../src/bearer/extract';
import { HOOK_HEADERS } from '../support/authorization-code';
import {
  checkAuthorizeAnswer,
  checkHealthy,
  checkJsonAnswer,
  checkPrototypes,
  encode,
  fields,
  fuzzParams,
  fuzzRequest,
  FUZZ_TIMEOUT,
  mintCode,
  mintTokens,
  scaled,
  startFuzzServer,
  VARIANTS,
  type Fresh,
  type FuzzRequest,
  type FuzzServer,
  type Variant,
} from '../support/fuzz';
import { closeAgent, send } from '../support/hardening';
import { basic } from '../support/spine';

const servers = new Map<Variant, FuzzServer>();

beforeAll(async () => {
  for (const v of VARIANTS) servers.set(v, await startFuzzServer(v));
});
afterAll(async () => {
  for (const s of servers.values()) await s.close();
  closeAgent();
  checkPrototypes();
});

const variant = fc.constantFrom(...VARIANTS);
const server = (v: Variant): FuzzServer => servers.get(v) as FuzzServer;

async function fresh(s: FuzzServer, needs: string): Promise<Fresh> {
  const tokens = /\$(REFRESH|ACCESS)/.test(needs) ? await mintTokens(s) : { access: 'none', refresh: 'none' };
  const code = /\$(CODE|VERIFIER)/.test(needs) ? await mintCode(s) : { code: 'none', verifier: 'none' };
  return { ...tokens, ...code };
}

/** Send one fuzzed request to `path`; check the store was not touched by a failure. */
async function exchange(s: FuzzServer, path: string, r: FuzzRequest, extraHeaders: Record<string, string> = {}) {
  const f = await fresh(s, JSON.stringify(r));
  const { method, path: query, headers, body, inputs, pairs } = encode(r, f);
  const before = { ...s.counts };
  const res = await send(s.url, path + query, { method, headers: { ...headers, ...extraHeaders }, body });
  const created = s.counts.saves - before.saves;
  const consumed = s.counts.consumed - before.consumed;
  return { res, inputs, created, consumed, method, pairs };
}

function noChangeOnFailure(status: number, created: number, consumed: number): void {
  if (status >= 400 && (created !== 0 || consumed !== 0))
    throw new Error(`a failed request (${status}) created ${created} and consumed ${consumed} records`);
}

describe('fuzzing the token endpoint', () => {
  test(
    'any request: JSON OAuth answer with no-store, never 5xx, nothing created or consumed on failure',
    async () => {
      await fc.assert(
        fc.asyncProperty(variant, fuzzRequest, async (v, r) => {
          const s = server(v);
          const { res, inputs, created, consumed, method } = await exchange(s, '/oauth/token', r);
          checkJsonAnswer(res, inputs, method);
          noChangeOnFailure(res.status, created, consumed);
        }),
        fuzzParams(80001, 1200),
      );
      for (const s of servers.values()) await checkHealthy(s);
    },
    FUZZ_TIMEOUT,
  );

  test(
    'grant-shaped requests with valid credentials and one hostile field',
    async () => {
      const grant = fc.constantFrom(
        { grant_type: 'refresh_token', refresh_token: '$REFRESH' },
        {
          grant_type: 'authorization_code',
          code: '$CODE',
          code_verifier: '$VERIFIER',
          redirect_uri: 'https://spa.example.com/callback',
          client_id: 'spa',
        },
        { grant_type: 'password', username: 'alice@example.com', password: 'wonderland' },
        { grant_type: 'client_credentials' },
      );
      const auth = fc.constantFrom<string | undefined>(undefined, 'Basic d2ViLWFwcDp3ZWItc2VjcmV0');
      const base: fc.Arbitrary<FuzzRequest> = fc.record({
        method: fc.constant('POST'),
        encoding: fc.constantFrom('form' as const, 'multipart' as const),
        fields: fc
          .tuple(grant, fields)
          .map(([g, extra]) => [...Object.entries(g), ...extra.slice(0, 2)] as [string, string][]),
        auth,
        contentType: fc.constant(''),
        rawBytes: fc.constant(new Uint8Array()),
        query: fc.constant([]),
      });
      let issued = 0;
      await fc.assert(
        fc.asyncProperty(variant, base, async (v, r) => {
          const s = server(v);
          const { res, inputs, created, consumed, method } = await exchange(s, '/oauth/token', r);
          checkJsonAnswer(res, inputs, method);
          noChangeOnFailure(res.status, created, consumed);
          if (res.status === 200 && typeof res.json().access_token !== 'string')
            throw new Error('a 200 without an access token');
          if (res.status === 200) issued++;
        }),
        fuzzParams(80002, 600),
      );
      // The cases reach the grants, not only the parser: many of them succeed.
      expect(issued).toBeGreaterThan(scaled(50));
      for (const s of servers.values()) await checkHealthy(s);
    },
    FUZZ_TIMEOUT,
  );
});

describe('fuzzing the authorization endpoint', () => {
  const authorizeRequest = fc.record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'PUT'),
    base: fc.constantFrom<Record<string, string>>(
      {
        response_type: 'code',
        client_id: 'spa',
        redirect_uri: 'https://spa.example.com/callback',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      },
      { response_type: 'code', client_id: 'web', redirect_uri: 'https://web.example.com/cb' },
      { response_type: 'code', client_id: 'single' },
      { client_id: 'machine' },
      {},
    ),
    extra: fields,
    signedIn: fc.boolean(),
  });

  test(
    'redirects only to registered URIs with encoded parameters, or an escaped HTML page; never 5xx; no code on failure',
    async () => {
      let codes = 0;
      await fc.assert(
        fc.asyncProperty(variant, authorizeRequest, async (v, a) => {
          const s = server(v);
          // Node answers 431 itself to URLs over 16 kB: keep GET requests under it.
          const pairs: [string, string][] = [...Object.entries(a.base), ...a.extra].map(([n, v]) => [
            n,
            a.method === 'GET' ? v.slice(0, 1500) : v,
          ]);

          const r: FuzzRequest = {
            method: a.method,
            encoding: 'form',
            fields: a.method === 'GET' ? [] : pairs,
            auth: undefined,
            contentType: '',
            rawBytes: new Uint8Array(),
            query: a.method === 'GET' ? pairs : [],
          };
          const {
            res,
            inputs,
            created,
            consumed,
            method,
            pairs: sent,
          } = await exchange(s, '/oauth/authorize', r, a.signedIn ? { [HOOK_HEADERS.user]: 'user-alice' } : {});
          const state = sent.filter(([n]) => n === 'state');
          // What the server received: URL encoding turns a lone surrogate into U+FFFD.
          const received =
            state.length === 1
              ? (new URLSearchParams([state[0] as [string, string]]).get('state') ?? undefined)
              : undefined;
          checkAuthorizeAnswer(res, inputs, received, method);
          const issued =
            res.headers.location !== undefined &&
            new URL(res.headers.location, 'http://x').searchParams.get('code') !== null;
          if (!issued && (created !== 0 || consumed !== 0))
            throw new Error(`a refused authorization request created ${created} records`);
          if (issued && created !== 1) throw new Error('a code was issued without exactly one record');
          if (issued) codes++;
        }),
        fuzzParams(80003, 800),
      );
      expect(codes).toBeGreaterThan(scaled(20));
      for (const s of servers.values()) await checkHealthy(s);
    },
    FUZZ_TIMEOUT,
  );
});

describe.each(['revoke', 'introspect'])('fuzzing the %s endpoint', (endpoint) => {
  test(
    'any request: JSON answer with no-store, never 5xx, nothing created or consumed',
    async () => {
      await fc.assert(
        fc.asyncProperty(variant, fuzzRequest, async (v, r) => {
          const s = server(v);
          const { res, inputs, created, consumed, method } = await exchange(s, `/oauth/${endpoint}`, r);
          checkJsonAnswer(res, inputs, method);
          // Neither endpoint ever creates or consumes a record, successful or not.
          if (created !== 0 || consumed !== 0)
            throw new Error(`${endpoint} created ${created} and consumed ${consumed} records`);
          if (endpoint === 'introspect' && res.status === 200 && typeof res.json().active !== 'boolean')
            throw new Error('introspection without "active"');
        }),
        fuzzParams(endpoint === 'revoke' ? 80004 : 80005, 500),
      );
      for (const s of servers.values()) await checkHealthy(s);
    },
    FUZZ_TIMEOUT,
  );
});

describe('fuzzing bearer-header parsing', () => {
  const header = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc
      .tuple(
        fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer\t', 'Bearer', 'Basic ', 'Bearer x '),
        fc.string({ maxLength: 60 }),
      )
      .map(([a, b]) => a + b),
    fc.integer({ min: 8000, max: 9000 }).map((n) => 'Bearer ' + 'A'.repeat(n)),
  );

  test('bearerFromHeader: undefined, a valid b64token of at most 8192 characters, or invalid_request; nothing else', () => {
    fc.assert(
      fc.property(header, (h) => {
        let token: string | undefined;
        try {
          token = bearerFromHeader(h);
        } catch (err) {
          if (!(err instanceof InvalidRequest)) throw err;
          return;
        }
        if (token === undefined) return;
        if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token) || token.length > 8192)
          throw new Error(`accepted ${JSON.stringify(token)}`);
      }),
      fuzzParams(80006, 1000),
    );
  });

  const httpHeader = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
    fc
      .tuple(
        fc.constantFrom('Bearer ', 'bearer ', 'Basic ', 'Bearer "', 'Bearer a,b '),
        fc.string({
          unit: fc
            .integer({ min: 0x20, max: 0xff })
            .filter((c) => c !== 0x7f)
            .map((c) => String.fromCharCode(c)),
          maxLength: 80,
        }),
      )
      .map(([a, b]) => a + b),
    fc.constant('Bearer $ACCESS'),
    fc.constant('Bearer $REFRESH'),
  );

  test(
    'protected routes: 200 only for a valid token; otherwise a JSON error with a clean Bearer challenge; never 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          variant,
          httpHeader,
          fc.constantFrom('/api/me', '/api/body', '/api/body?access_token=x'),
          async (v, h, path) => {
            const s = server(v);
            const f = await fresh(s, h);
            const value = h.replace('$ACCESS', f.access).replace('$REFRESH', f.refresh);
            const res = await send(s.url, path, { method: 'GET', headers: { Authorization: value } });
            if (res.status >= 500) throw new Error(`status ${res.status}`);
            if (res.status === 200) {
              if (h !== 'Bearer $ACCESS' || path.includes('?'))
                throw new Error(`200 for ${JSON.stringify(value)} on ${path}`);
              return;
            }
            const challenge = String(res.headers['www-authenticate']);
            if (!/^Bearer realm="[^"]*"/.test(challenge) || /[\r\n]/.test(challenge))
              throw new Error(`bad challenge ${challenge}`);
            if (!challenge.includes('error=')) {
              // RFC 6750 §3.1: a request without a token gets the bare challenge, no error code.
              if (res.status !== 401 || res.json().error !== undefined || res.headers['cache-control'] !== 'no-store')
                throw new Error(`bare challenge with ${res.status} ${res.text}`);
              return;
            }
            checkJsonAnswer(res, [value], 'GET');
          },
        ),
        fuzzParams(80007, 500),
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('fuzzing with a failing token store (the one allowed 5xx)', () => {
  test(
    'a store that throws gives 500/503 with a generic description, never its message; the server recovers',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          variant,
          fc.constantFrom('/oauth/token', '/oauth/revoke', '/oauth/introspect'),
          fuzzRequest,
          async (v, path, r) => {
            const s = server(v);
            const f = await fresh(s, JSON.stringify(r));
            const { method, path: query, headers, body, inputs } = encode(r, f);
            s.setStoreFailing(true);
            try {
              const res = await send(s.url, path + query, { method, headers, body });
              checkJsonAnswer(res, inputs, method, true);
            } finally {
              s.setStoreFailing(false);
            }
          },
        ),
        fuzzParams(80008, 300),
      );
      for (const s of servers.values()) {
        await checkHealthy(s);
        // The cause went to the logger, not to the client.
        s.setStoreFailing(true);
        const res = await send(s.url, '/oauth/revoke', {
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Authorization: basic('web-app', 'web-secret'),
          },
          body: 'token=abc',
        });
        s.setStoreFailing(false);
        expect(res.json()).toEqual({
          error: 'server_error',
          error_description: 'The server could not handle the request; try again later.',
        });
        expect(
          s.logger.lines.some((l) => l.level === 'error' && String((l.detail as Error)?.message).includes('10.9.8.7')),
        ).toBe(true);
      }
    },
    FUZZ_TIMEOUT,
  );
});

test('no request polluted Object.prototype', () => {
  checkPrototypes();
});
