/**
 * Error hygiene (issue 8): no secret, token, code, password or stack trace in a response body,
 * a header, or the default log output.
 *
 * Two layers. Every test file of the run is watched by test/support/hygiene-setup.ts (all HTTP
 * exchanges and all log lines, checked in `afterAll`). This file replays every kind of failure
 * with the fixture secrets, including stores whose errors quote the request's password, and
 * checks the responses and the logs directly; and it checks the watcher's rules themselves, so
 * a watcher that stopped seeing leaks would fail here.
 */
import util from 'node:util';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import request from 'supertest';
import { memoryStores, type Logger, type UserStore } from '../../src';
import { maskTokens, requestSecrets, safeDetail, withoutSecrets } from '../../src/core/redact';
import { consoleLogger } from '../../src/options';
import { FIXTURE_SECRETS, HygieneCollector, type Exchange } from '../support/hygiene';
import { basic, buildApp, CLIENTS, ODD_SECRET, USERS } from '../support/spine';

const TOKEN = '/oauth/token';
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** Console output of the default logger while `run` runs. */
async function consoleOutput(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const spies = (['error', 'warn', 'log', 'info'] as const).map((m) =>
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(util.format(...args))),
  );
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines.join('\n');
}

function expectClean(text: string, what: string): void {
  for (const secret of [...FIXTURE_SECRETS, ODD_SECRET, 'hunter2-hunter2']) {
    if (text.includes(secret))
      throw new Error(`${what} contains the secret ${JSON.stringify(secret)}:\n${text.slice(0, 2000)}`);
  }
}

/** A user store that fails the way a careless driver does: quoting its query parameters. */
function leakyUsers(): UserStore {
  return {
    async authenticate(username, password) {
      throw Object.assign(
        new Error(`query failed: SELECT * FROM users WHERE name = '${username}' AND pw = crypt('${password}')`),
        {
          code: 'XX000',
          parameters: [username, password],
          stack: `Error: query failed for ${password}\n    at Pool.query (/app/node_modules/pg/lib/pool.js:10:5)`,
        },
      );
    },
  };
}

/** Every kind of failure the token, revocation and introspection endpoints and requireToken answer. */
async function replayFailures(app: Parameters<typeof request>[0]): Promise<request.Response[]> {
  const responses: request.Response[] = [];
  const go = async (r: request.Test): Promise<void> => void responses.push(await r);
  const form = (fields: Record<string, string>, auth?: string): request.Test => {
    const r = request(app).post(TOKEN).type('form');
    if (auth) r.set('Authorization', auth);
    return r.send(fields);
  };
  await go(form({ grant_type: 'client_credentials' }, basic('web-app', 'hunter2-hunter2')));
  await go(form({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'hunter2-hunter2' }));
  await go(form({ grant_type: 'client_credentials', client_id: 'ghost', client_secret: 'web-secret' }));
  await go(form({ grant_type: 'client_credentials' }, basic('odd-app', ODD_SECRET.toUpperCase())));
  await go(
    form(
      { grant_type: 'password', username: 'alice@example.com', password: 'hunter2-hunter2' },
      basic('web-app', 'web-secret'),
    ),
  );
  await go(
    form(
      { grant_type: 'password', username: 'nobody@example.com', password: 'wonderland' },
      basic('web-app', 'web-secret'),
    ),
  );
  await go(
    form(
      { grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'admin' },
      basic('web-app', 'web-secret'),
    ),
  );
  await go(form({ grant_type: 'refresh_token', refresh_token: 'hunter2-hunter2' }, basic('web-app', 'web-secret')));
  await go(form({ grant_type: 'client_credentials', client_secret: 'web-secret' }, basic('web-app', 'web-secret')));
  await go(request(app).post(TOKEN).type('form').send('grant_type=password&password=wonderland&password=wonderland'));
  await go(
    request(app)
      .post(TOKEN)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ client_secret: 'web-secret', password: 'wonderland' })),
  );
  await go(
    request(app)
      .post(TOKEN)
      .type('form')
      .send(`password=wonderland&pad=${'x'.repeat(20_000)}`),
  );
  await go(request(app).get(`${TOKEN}?client_secret=web-secret&password=wonderland`));
  await go(
    request(app)
      .post('/oauth/revoke')
      .set('Authorization', basic('web-app', 'hunter2-hunter2'))
      .type('form')
      .send({ token: 'hunter2-hunter2' }),
  );
  await go(
    request(app)
      .post('/oauth/introspect')
      .set('Authorization', basic('web-app', 'hunter2-hunter2'))
      .type('form')
      .send({ token: 'hunter2-hunter2' }),
  );
  await go(request(app).get('/api/me').set('Authorization', 'Bearer hunter2-hunter2'));
  await go(request(app).get('/api/me').set('Authorization', 'Bearer "hunter2-hunter2"'));
  // Past the limits: 429s.
  for (let i = 0; i < 3; i++)
    await go(
      form(
        { grant_type: 'password', username: 'alice@example.com', password: 'hunter2-hunter2' },
        basic('web-app', 'web-secret'),
      ),
    );
  for (let i = 0; i < 3; i++) await go(form({ grant_type: 'client_credentials' }, basic('reader', 'hunter2-hunter2')));
  return responses;
}

describe('replaying every kind of failure with the fixture secrets', () => {
  test('responses: no secret, password or stack trace in a body or header; every error is the OAuth JSON shape', async () => {
    const { app } = buildApp('express5', { bruteForce: { username: { points: 2 }, clientId: { points: 2 } } });
    const responses = await replayFailures(app);
    expect(responses.length).toBeGreaterThan(20);
    for (const [i, res] of responses.entries()) {
      const text = `${JSON.stringify(res.headers)}\n${res.text}`;
      expectClean(text, `response #${i} (${res.status})`);
      expect(text).not.toMatch(STACK_LINE);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect(responses.map((r) => r.status)).toEqual(expect.arrayContaining([400, 401, 405, 413, 429]));
  });

  test('the default console logger prints no secret, token or stack trace, even when a store quotes the password', async () => {
    const stores = { ...memoryStores({ clients: CLIENTS, users: USERS }), users: leakyUsers() };
    const broken = new RateLimiterMemory({ points: 5, duration: 60 });
    broken.get = () =>
      Promise.reject(
        new Error("READONLY You can't write against a read only replica. (key tokengate:address:127.0.0.1)"),
      );
    const output = await consoleOutput(async () => {
      const { app } = buildApp('express5', { logger: undefined }, stores);
      await replayFailures(app);
      const leaky = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'hunter2-hunter2' });
      expect(leaky.status).toBe(500);
      expect(leaky.body).toEqual({
        error: 'server_error',
        error_description: 'The server could not handle the request; try again later.',
      });
      const limiterDown = buildApp('express5', { logger: undefined, bruteForce: { address: broken } }).app;
      expect(
        (
          await request(limiterDown)
            .post(TOKEN)
            .set('Authorization', basic('web-app', 'web-secret'))
            .type('form')
            .send({ grant_type: 'client_credentials' })
        ).status,
      ).toBe(503);
    });
    // The operator still learns what failed...
    expect(output).toContain(
      '[tokengate] token endpoint: unexpected failure; answered server_error (Error [XX000]: query failed',
    );
    expect(output).toContain('READONLY');
    // ...and nothing else.
    expectClean(output, 'console output');
    expect(output).not.toMatch(STACK_LINE);
    expect(output).not.toContain('parameters');
    for (const line of output.split('\n')) expect(line).toMatch(/^\[tokengate\] /);
  });

  test("a logger of the app's own gets the error, with the request's credentials masked", async () => {
    const stores = { ...memoryStores({ clients: CLIENTS, users: USERS }), users: leakyUsers() };
    const { app, logger } = buildApp('express5', {}, stores);
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'hunter2-hunter2' });
    const line = logger.lines.find((l) => l.level === 'error');
    expect(line?.detail).toBeInstanceOf(Error);
    const detail = line?.detail as Error & { code?: string };
    expect(detail.message).toBe(
      "query failed: SELECT * FROM users WHERE name = 'alice@example.com' AND pw = crypt('[redacted]')",
    );
    expect(detail.code).toBe('XX000');
    expectClean(util.inspect(detail, { depth: 5 }), 'the logged error');
  });
});

describe('the masking helpers', () => {
  test('requestSecrets finds parameters and both halves of the Authorization header', () => {
    const req = { headers: { authorization: basic('web-app', ODD_SECRET) } } as never;
    const secrets = requestSecrets(req, { password: 'wonderland', scope: 'read', code_verifier: 'v'.repeat(43) });
    expect(secrets).toEqual(expect.arrayContaining(['wonderland', ODD_SECRET, 'v'.repeat(43)]));
    expect(secrets).not.toContain('read');
  });

  test('withoutSecrets leaves an error alone unless it quotes a secret, then masks message, stack and cause', () => {
    const clean = new Error('ECONNREFUSED');
    expect(withoutSecrets(clean, ['wonderland'])).toBe(clean);
    const dirty = new Error('bad password wonderland', { cause: new Error('also wonderland') });
    const scrubbed = withoutSecrets(dirty, ['wonderland']) as Error;
    expect(scrubbed.message).toBe('bad password [redacted]');
    expect(scrubbed.stack).not.toContain('wonderland');
    expect((scrubbed.cause as Error).message).toBe('also [redacted]');
  });

  test('maskTokens hides JWTs, HTTP credentials and long random strings; safeDetail prints no stack and no extra fields', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    expect(maskTokens(`token ${jwt} here`)).toBe('token [redacted] here');
    expect(maskTokens('Authorization: Bearer abc.def-ghi')).toBe('Authorization: [redacted]');
    expect(maskTokens('Basic d2ViLWFwcDp3ZWItc2VjcmV0')).toBe('[redacted]');
    expect(maskTokens('refresh Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA lost')).toBe('refresh [redacted] lost');
    expect(maskTokens('ECONNREFUSED 127.0.0.1:5432')).toBe('ECONNREFUSED 127.0.0.1:5432');
    const err = Object.assign(new Error('timeout'), {
      code: 'ETIMEDOUT',
      config: { headers: { Authorization: 'Bearer secret-token' } },
    });
    expect(safeDetail(err)).toBe('Error [ETIMEDOUT]: timeout');
    expect(safeDetail({ password: 'wonderland' })).toBe('(object)');
    expect(safeDetail(new Error('outer', { cause: new Error('inner') }))).toBe('Error: outer; caused by Error: inner');
  });

  test('consoleLogger.error prints one masked line', () => {
    const lines: string[] = [];
    const spy = jest
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => void lines.push(util.format(...args)));
    try {
      (consoleLogger as Logger).error(
        'store failed',
        new Error('lookup of eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl failed'),
      );
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['[tokengate] store failed (Error: lookup of [redacted] failed)']);
  });
});

describe('the whole-run watcher (test/support/hygiene-setup.ts) catches each kind of leak', () => {
  const exchange = (over: Partial<Exchange>): Exchange => ({
    method: 'POST',
    url: '/oauth/token',
    requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
    requestBody: '',
    status: 400,
    responseHead: 'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json',
    responseBody: '{"error":"invalid_request","error_description":"x"}',
    ...over,
  });

  test('a response that repeats its request’s password, or a fixture secret', () => {
    const c = new HygieneCollector();
    c.exchange(
      exchange({
        requestBody: 'password=Tr0ub4dor-3',
        responseBody: '{"error":"invalid_grant","error_description":"wrong: Tr0ub4dor-3"}',
      }),
    );
    c.exchange(exchange({ responseHead: 'HTTP/1.1 401\r\nX-Debug: web-secret' }));
    expect(c.finish()).toEqual([
      expect.stringContaining('repeats a credential'),
      expect.stringContaining('fixture secret'),
    ]);
  });

  test('an error response with a stack trace or an issued token', () => {
    const c = new HygieneCollector();
    const token = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA';
    c.exchange(exchange({ status: 200, responseBody: `{"access_token":"${token}","token_type":"Bearer"}` }));
    c.exchange(
      exchange({
        responseBody:
          '{"error":"server_error","error_description":"TypeError: x\\n    at foo (/app/x.js:1:2)"}'.replace(
            '\\n',
            '\n',
          ),
      }),
    );
    c.exchange(
      exchange({ url: '/oauth/revoke', responseBody: `{"error":"invalid_request","error_description":"${token}"}` }),
    );
    expect(c.finish()).toEqual([expect.stringContaining('stack trace'), expect.stringContaining('issued token')]);
  });

  test('a log line with a credential, an issued token, or a stack trace from the default logger', () => {
    const c = new HygieneCollector();
    c.exchange(exchange({ requestHeaders: { authorization: basic('web-app', 'S3cr3t-value!') } }));
    c.exchange(
      exchange({
        status: 200,
        responseHead: 'HTTP/1.1 302\r\nLocation: https://spa.example.com/cb?code=Q29kZS1jb2RlLWNvZGUtY29kZQ&state=1',
      }),
    );
    c.log('console.error', '[tokengate] failed for S3cr3t-value!', true);
    c.log('logger.error', 'code Q29kZS1jb2RlLWNvZGUtY29kZQ was replayed', false);
    c.log('console.error', '[tokengate] boom\n    at Object.<anonymous> (/app/src/x.ts:3:9)', true);
    c.log('console.log', 'a test printing figures: p99 1.2 ms', false);
    expect(c.finish()).toEqual([
      expect.stringContaining('S3c'),
      expect.stringContaining('issued token'),
      expect.stringContaining('stack trace'),
    ]);
  });

  test('no false alarm for what is allowed: tokens in a token response, a route echoing its own caller, ordinary parameters', () => {
    const c = new HygieneCollector();
    c.exchange(
      exchange({
        status: 200,
        requestBody: 'grant_type=password&username=alice&password=Tr0ub4dor-3',
        responseBody: '{"access_token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln","token_type":"Bearer"}',
      }),
    );
    c.exchange(
      exchange({
        method: 'GET',
        url: '/api/me',
        status: 200,
        requestHeaders: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln' },
        responseBody: '{"token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}',
      }),
    );
    c.exchange(
      exchange({
        url: '/oauth/authorize',
        requestBody: 'client_id=web-secret',
        responseBody: '<p>There is no client "web-secret".</p>',
      }),
    );
    c.exchange(exchange({ method: 'GET', url: '/login', status: 200, responseBody: 'Sign in as alice / wonderland' }));
    expect(c.finish()).toEqual([]);
  });
});
