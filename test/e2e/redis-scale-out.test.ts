/**
 * Scale-out with real processes: two app instances (separate Node processes) share one
 * redis-server. Tokens from A work on B, B refreshes A's tokens, 100 concurrent refreshes of
 * one token over both give exactly one success, a revocation on A reaches B's cache, and when
 * Redis is killed both answer 503 JSON without crashing and recover when it returns.
 *
 * The latencies measured here (kept in test-output/measurements/redis-scale-out.log) are what
 * docs/scale-out.md reports; the
 * assertions only check behaviour, with bounds loose enough for a busy 2-core machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import type { KeyInput } from '../../src';
import { recordMeasurement } from '../support/measurements';
import { describeWithRedis, startRedis, type TestRedis } from '../support/redis-server';
import { basic } from '../support/spine';

const ISSUER = 'https://auth.example.com';
const WEB_APP = basic('web-app', 'web-secret');

interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  contentType: string | null;
}

async function call(
  url: string,
  init: { method?: string; form?: Record<string, string>; bearer?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers.Authorization = WEB_APP;
  }
  if (init.bearer) headers.Authorization = `Bearer ${init.bearer}`;
  const res = await fetch(url, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers,
    body: init.form ? new URLSearchParams(init.form).toString() : undefined,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    contentType: res.headers.get('content-type'),
  };
}

const passwordGrant = { grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read' };

function startInstance(name: string, redisUrl: string, keys: KeyInput[]): Promise<Instance> {
  const child = fork(path.join(__dirname, '../support/redis-instance-process.ts'), [], {
    execArgv: ['--require', path.join(__dirname, '../support/register-ts.js')],
    env: { ...process.env, REDIS_URL: redisUrl, TOKENGATE_TEST_KEYS: JSON.stringify(keys), INSTANCE: name, ISSUER },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code}) before listening`)));
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type === 'listening') resolve({ name, url: `http://127.0.0.1:${message.port}`, child });
    });
  });
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.send({ type: 'stop' });
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function until(what: string, condition: () => Promise<boolean>, ms: number): Promise<number> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
  return performance.now() - start;
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): string =>
    (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(1);
  return `n=${sorted.length} p50=${at(0.5)} ms p90=${at(0.9)} ms max=${(sorted[sorted.length - 1] as number).toFixed(1)} ms`;
}

describeWithRedis('two app instances (separate processes) sharing one Redis', () => {
  let redis: TestRedis;
  let a: Instance;
  let b: Instance;
  const report: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys: KeyInput[] = [
      { kid: 'shared-1', alg: 'ES256', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    ];
    [a, b] = await Promise.all([startInstance('A', redis.url, keys), startInstance('B', redis.url, keys)]);
    // Both revocation channels are live once a revocation made on one reaches the other's cache.
    await until(
      'both instances to be ready',
      async () => (await call(`${a.url}/oauth/token`, { form: passwordGrant }).catch(() => undefined))?.status === 200,
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await redis?.stop();
    if (report.length) recordMeasurement('redis-scale-out', ...report);
  });

  test('a JWT issued by A is accepted by B, and an opaque token too', async () => {
    const jwt = await call(`${a.url}/oauth/token`, { form: passwordGrant });
    expect(jwt.status).toBe(200);
    const me = await call(`${b.url}/api/me`, { bearer: jwt.body.access_token as string });
    expect(me).toMatchObject({ status: 200, body: { instance: 'B', sub: 'user-alice', client_id: 'web-app' } });
    const opaque = await call(`${a.url}/opaque/oauth/token`, { form: passwordGrant });
    expect(opaque.status).toBe(200);
    expect((opaque.body.access_token as string).split('.')).toHaveLength(1);
    expect((await call(`${b.url}/opaque/api/me`, { bearer: opaque.body.access_token as string })).status).toBe(200);
  });

  test('B refreshes a refresh token issued by A; A then sees the old one as reused (RFC 9700 §4.14.2)', async () => {
    const issued = await call(`${a.url}/oauth/token`, { form: passwordGrant });
    const refreshed = await call(`${b.url}/oauth/token`, {
      form: { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(issued.body.refresh_token);
    expect((await call(`${a.url}/api/me`, { bearer: refreshed.body.access_token as string })).status).toBe(200);
    const replay = await call(`${a.url}/oauth/token`, {
      form: { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string },
    });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('100 concurrent refreshes of one token spread over both instances: one rotation (plus at most 3 retries that caught it unsaved, same successor), the rest revoke the family (RFC 9700 §4.14.2)', async () => {
    const issued = await call(`${a.url}/oauth/token`, { form: passwordGrant });
    const form = { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string };
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call(`${(i % 2 ? a : b).url}/oauth/token`, { form })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(4);
    expect(new Set(ok.map((r) => r.body.refresh_token)).size).toBe(1);
    for (const r of results.filter((x) => x.status !== 200))
      expect(r).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The losers were replays: the family is revoked, the winner's tokens included.
    const winner = ok[0] as Reply;
    const again = await call(`${b.url}/oauth/token`, {
      form: { grant_type: 'refresh_token', refresh_token: winner.body.refresh_token as string },
    });
    expect(again.body.error).toBe('invalid_grant');
  });

  test('a revocation on A (POST /oauth/revoke, RFC 7009) reaches the cache of B', async () => {
    const samples: number[] = [];
    const endToEnd: number[] = [];
    for (let i = 0; i < 20; i++) {
      const issued = await call(`${a.url}/oauth/token`, { form: passwordGrant });
      const bearer = issued.body.access_token as string;
      expect((await call(`${b.url}/api/me`, { bearer })).status).toBe(200); // now in B's cache
      expect((await call(`${b.url}/api/me`, { bearer })).status).toBe(200);
      // Revoke the access token on even rounds, its whole grant (refresh token) on odd ones.
      const token = i % 2 ? (issued.body.refresh_token as string) : bearer;
      const sentAt = performance.now();
      const revoked = await call(`${a.url}/oauth/revoke`, { form: { token } });
      expect(revoked.status).toBe(200);
      const revokedAt = performance.now();
      await until(
        'B to refuse the revoked token',
        async () => (await call(`${b.url}/api/me`, { bearer })).status === 401,
        5000,
      );
      samples.push(performance.now() - revokedAt);
      endToEnd.push(performance.now() - sentAt);
    }
    report.push(`revocation on A -> B refuses, from A's 200 to B's first 401: ${stats(samples)}`);
    report.push(`revocation on A -> B refuses, from sending the revocation to B's first 401: ${stats(endToEnd)}`);
  });

  test('Redis killed mid-traffic: both instances answer 503 JSON (never crash, never hang); restarted: both recover and fan-out works again', async () => {
    const issued = await call(`${a.url}/oauth/token`, { form: passwordGrant });
    const bearer = issued.body.access_token as string;
    expect((await call(`${b.url}/api/me`, { bearer })).status).toBe(200);

    // Kill Redis in the middle of traffic: four clients keep both instances busy with token
    // requests, refreshes and guarded calls. Every answer must be the RFC's JSON (success,
    // invalid_grant for a refresh token already used, or 503): never a 500, a dropped connection
    // or a hang.
    let running = true;
    const seen: Reply[] = [];
    const traffic = Array.from({ length: 4 }, async (_, w) => {
      while (running) {
        const inst = w % 2 ? a : b;
        const got = await call(`${inst.url}/oauth/token`, { form: passwordGrant });
        seen.push(got);
        if (got.status === 200) {
          seen.push(
            await call(`${(w % 2 ? b : a).url}/oauth/token`, {
              form: { grant_type: 'refresh_token', refresh_token: got.body.refresh_token as string },
            }),
          );
          seen.push(await call(`${inst.url}/api/me`, { bearer: got.body.access_token as string }));
        }
      }
    });
    const count = (status: number) => async () => seen.filter((r) => r.status === status).length >= 4;
    await until(
      'traffic to be flowing',
      async () => (await count(200)()) || (await new Promise((r) => setTimeout(r, 10)), false),
      20_000,
    );
    await redis.kill();
    const killedAt = performance.now();
    await until(
      'the outage to show in the traffic',
      async () => (await count(503)()) || (await new Promise((r) => setTimeout(r, 10)), false),
      20_000,
    );
    running = false;
    await Promise.all(traffic);
    for (const r of seen) {
      expect(r.contentType).toMatch(/^application\/json/);
      expect([200, 400, 503]).toContain(r.status);
      if (r.status === 400) expect(r.body.error).toBe('invalid_grant');
    }
    expect(seen.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    report.push(
      `Redis killed under traffic: ${seen.length} answers, ${seen.filter((r) => r.status === 503).length} of them 503, none 5xx other than 503`,
    );
    const detect: Record<string, number> = {};
    for (const inst of [a, b]) {
      detect[inst.name] = await until(
        `${inst.name} to report the outage`,
        async () => (await call(`${inst.url}/api/me`, { bearer })).status === 503,
        5000,
      );
    }
    const outage: Reply[] = [];
    const timings: Record<'refresh' | 'api', number[]> = { refresh: [], api: [] };
    const timed = async (kind: 'refresh' | 'api', request: Promise<Reply>): Promise<void> => {
      const started = performance.now();
      outage.push(await request);
      timings[kind].push(performance.now() - started);
    };
    for (let i = 0; i < 10; i++) {
      for (const inst of [a, b]) {
        outage.push(await call(`${inst.url}/oauth/token`, { form: passwordGrant }));
        await timed(
          'refresh',
          call(`${inst.url}/oauth/token`, {
            form: { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string },
          }),
        );
        await timed('api', call(`${inst.url}/api/me`, { bearer }));
      }
    }
    for (const r of outage) {
      expect(r.status).toBe(503);
      expect(r.contentType).toMatch(/^application\/json/);
      expect(r.body.error).toBe('temporarily_unavailable');
    }
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    report.push(
      `Redis killed -> cached token refused with 503: A ${detect.A?.toFixed(1)} ms, B ${detect.B?.toFixed(1)} ms after the kill`,
    );
    report.push(`during the outage, refresh_token requests answered 503 in: ${stats(timings.refresh)}`);
    report.push(`during the outage, requireToken routes answered 503 in: ${stats(timings.api)}`);
    const downFor = performance.now() - killedAt;

    await redis.restart();
    const restartedAt = performance.now();
    const recovery: Record<string, number> = {};
    await Promise.all(
      [a, b].map(async (inst) => {
        await until(
          `${inst.name} to issue tokens again`,
          async () => (await call(`${inst.url}/oauth/token`, { form: passwordGrant })).status === 200,
          15_000,
        );
        recovery[inst.name] = performance.now() - restartedAt;
      }),
    );
    report.push(
      `Redis down ${downFor.toFixed(0)} ms, restarted -> token endpoint answers 200 again: A ${recovery.A?.toFixed(0)} ms, B ${recovery.B?.toFixed(0)} ms`,
    );

    // Fan-out is back too: a fresh token cached on B, revoked on A, refused by B.
    let cachedOnB = '';
    await until(
      'fan-out to work again',
      async () => {
        const fresh = await call(`${a.url}/oauth/token`, { form: passwordGrant });
        cachedOnB = fresh.body.access_token as string;
        if ((await call(`${b.url}/api/me`, { bearer: cachedOnB })).status !== 200) return false;
        await call(`${a.url}/oauth/revoke`, { form: { token: cachedOnB } });
        return (
          (await until(
            'B to refuse',
            async () => (await call(`${b.url}/api/me`, { bearer: cachedOnB })).status === 401,
            5000,
          ).catch(() => -1)) >= 0
        );
      },
      15_000,
    );
    // The JWT issued before the outage is still valid (Redis restarted empty: nothing revoked).
    expect((await call(`${b.url}/api/me`, { bearer })).status).toBe(200);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  }, 60_000);

  test('a revoked JWT stays revoked when Redis comes back empty, on every instance that heard the revocation, cache hit or miss (RFC 7009 §2.2)', async () => {
    const issue = async (): Promise<string> =>
      (await call(`${a.url}/oauth/token`, { form: passwordGrant })).body.access_token as string;
    const [cached, uncached, untouched] = [await issue(), await issue(), await issue()];
    expect((await call(`${b.url}/api/me`, { bearer: cached })).status).toBe(200); // in B's cache
    // Revoke on A: `uncached` first, then `cached`; once B refuses `cached`, it has heard both
    // (one channel, in order), though `uncached` was never presented to B.
    expect((await call(`${a.url}/oauth/revoke`, { form: { token: uncached } })).status).toBe(200);
    expect((await call(`${a.url}/oauth/revoke`, { form: { token: cached } })).status).toBe(200);
    await until(
      'B to refuse the revoked token',
      async () => (await call(`${b.url}/api/me`, { bearer: cached })).status === 401,
      5000,
    );

    // Redis loses everything (no persistence here: --save '' --appendonly no) and comes back.
    await redis.kill();
    await redis.restart();
    for (const inst of [a, b]) {
      await until(
        `${inst.name} to issue tokens again`,
        async () => (await call(`${inst.url}/oauth/token`, { form: passwordGrant })).status === 200,
        15_000,
      );
    }
    // Redis no longer knows either revocation; the instances do, on cache misses too.
    for (const inst of [a, b]) {
      for (const bearer of [cached, uncached]) {
        const res = await call(`${inst.url}/api/me`, { bearer });
        expect([inst.name, res.status, res.body.error]).toEqual([inst.name, 401, 'invalid_token']);
      }
    }
    // The token never revoked is unaffected.
    expect((await call(`${b.url}/api/me`, { bearer: untouched })).status).toBe(200);
  }, 60_000);
});
