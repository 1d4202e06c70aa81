/**
 * The DPoP replay rule across instances (RFC 9449 §11.1): two app processes share one real
 * redis-server (`redisReplayStore`), and a proof used at one is refused at the other, at the
 * token endpoint and at a resource. When the shared replay store is down, DPoP requests are
 * refused (503), never let through unchecked: at the token endpoint and at a resource.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import { memoryStores, requireToken, type KeyInput } from '../../src';
import { redisReplayStore } from '../../src/redis';
import { dpopKey, proof } from '../support/dpop';
import { describeWithRedis, disconnectClient, startRedis, type TestRedis } from '../support/redis-server';
import { basic, buildApp, CLIENTS, listen, recordingLogger, USERS } from '../support/spine';

const ISSUER = 'https://auth.example.com';
const HTU = `${ISSUER}/oauth/token`;
const WEB_APP = basic('web-app', 'web-secret');
const API = 'https://api.example.com';

interface Instance {
  url: string;
  child: ChildProcess;
}

function startInstance(name: string, redisUrl: string, keys: KeyInput[]): Promise<Instance> {
  const child = fork(path.join(__dirname, '../support/redis-instance-process.ts'), [], {
    execArgv: ['--require', path.join(__dirname, '../support/register-ts.js')],
    env: { ...process.env, REDIS_URL: redisUrl, TOKENGATE_TEST_KEYS: JSON.stringify(keys), INSTANCE: name, ISSUER },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code}) before listening`)));
    child.on(
      'message',
      (m: { type?: string; port?: number }) =>
        m.type === 'listening' && resolve({ url: `http://127.0.0.1:${m.port}`, child }),
    );
  });
}

async function stop(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.send({ type: 'stop' });
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function post(url: string, dpop: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: WEB_APP, 'Content-Type': 'application/x-www-form-urlencoded', DPoP: dpop },
    body: 'grant_type=client_credentials&scope=read',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describeWithRedis('DPoP replay across two processes on one Redis (RFC 9449 §11.1)', () => {
  let redis: TestRedis;
  let a: Instance;
  let b: Instance;
  const key = dpopKey();

  beforeAll(async () => {
    redis = await startRedis();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys: KeyInput[] = [
      { kid: 'shared-1', alg: 'ES256', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    ];
    [a, b] = await Promise.all([startInstance('A', redis.url, keys), startInstance('B', redis.url, keys)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stop(a), stop(b)]);
    await redis?.stop();
  });

  test('a token-endpoint proof used at A is refused at B', async () => {
    const once = proof(key, { htu: HTU });
    const first = await post(a.url, once);
    expect({ status: first.status, token_type: first.body.token_type }).toEqual({ status: 200, token_type: 'DPoP' });
    const replay = await post(b.url, once);
    expect({ status: replay.status, error: replay.body.error }).toEqual({ status: 400, error: 'invalid_dpop_proof' });
  });

  test('a resource proof used at A is refused at B, while a fresh proof works at B', async () => {
    const token = (await post(a.url, proof(key, { htu: HTU }))).body.access_token as string;
    const me = proof(key, { htm: 'GET', htu: `${ISSUER}/api/me`, accessToken: token });
    const call = (url: string, dpop: string) =>
      fetch(`${url}/api/me`, { headers: { Authorization: `DPoP ${token}`, DPoP: dpop } });
    expect((await call(a.url, me)).status).toBe(200);
    const replayed = await call(b.url, me);
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    expect((await call(b.url, proof(key, { htm: 'GET', htu: `${ISSUER}/api/me`, accessToken: token }))).status).toBe(
      200,
    );
  });
});

describeWithRedis('a shared replay store that is down fails closed (RFC 9449 §11.1)', () => {
  test('with Redis killed, a DPoP token request gets 503 temporarily_unavailable, and a bearer one still works', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url, { retryStrategy: () => 200, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      const { app, logger } = buildApp(
        'express5',
        {},
        { ...memoryStores({ clients: CLIENTS, users: USERS }), replay: redisReplayStore({ client, timeout: 0.3 }) },
      );
      const key = dpopKey();
      const ok = await request(app)
        .post('/oauth/token')
        .set('Authorization', WEB_APP)
        .set('DPoP', proof(key, { htu: HTU }))
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(ok.body.token_type).toBe('DPoP');
      await redis.kill();
      const down = await request(app)
        .post('/oauth/token')
        .set('Authorization', WEB_APP)
        .set('DPoP', proof(key, { htu: HTU }))
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect({ status: down.status, error: down.body.error }).toEqual({
        status: 503,
        error: 'temporarily_unavailable',
      });
      expect(logger.lines.some((l) => l.level === 'error')).toBe(true);
      const bearer = await request(app)
        .post('/oauth/token')
        .set('Authorization', WEB_APP)
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(bearer.status).toBe(200);
    } finally {
      await disconnectClient(client);
      await redis.stop();
    }
  }, 30_000);
});

describeWithRedis('a shared replay store that is down fails closed at a resource (RFC 9449 §11.1)', () => {
  // A resource that cannot record a proof's jti cannot tell a replay from a first use: it
  // answers 503 temporarily_unavailable (docs/dpop.md), never 200, and logs why.
  test('oauth.requireToken() and the standalone requireToken() answer a DPoP request 503 while Redis is down, and serve it again once it is back', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url, { retryStrategy: () => 100, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    const replay = redisReplayStore({ client, timeout: 0.3 });
    const issuer = http.createServer();
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    const issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    const { app: server, logger } = buildApp(
      'express5',
      { issuer: issuerUrl, audience: API },
      { ...memoryStores({ clients: CLIENTS, users: USERS }), replay },
    );
    issuer.on('request', server);
    const resourceLogger = recordingLogger();
    const guard = requireToken({ issuer: issuerUrl, audience: API, logger: resourceLogger, dpop: { replay } });
    const api = await listen((req, res) => guard(req, res, () => res.end('ok')));
    try {
      const key = dpopKey();
      const token = (
        await request(server)
          .post('/oauth/token')
          .set('Authorization', WEB_APP)
          .set('DPoP', proof(key, { htu: `${issuerUrl}/oauth/token` }))
          .type('form')
          .send({ grant_type: 'client_credentials', scope: 'read' })
      ).body.access_token as string;
      const atServer = () =>
        request(server)
          .get('/api/me')
          .set('Authorization', `DPoP ${token}`)
          .set('DPoP', proof(key, { htm: 'GET', htu: `${issuerUrl}/api/me`, accessToken: token }));
      const atResource = () =>
        fetch(`${api.url}/orders`, {
          headers: {
            Authorization: `DPoP ${token}`,
            DPoP: proof(key, { htm: 'GET', htu: `${API}/orders`, accessToken: token }),
          },
        });
      expect((await atServer()).status).toBe(200);
      expect((await atResource()).status).toBe(200);

      await redis.kill();
      const down = await atServer();
      expect({ status: down.status, error: down.body.error }).toEqual({
        status: 503,
        error: 'temporarily_unavailable',
      });
      expect(down.headers['cache-control']).toBe('no-store');
      const downThere = await atResource();
      expect({ status: downThere.status, error: ((await downThere.json()) as { error: string }).error }).toEqual({
        status: 503,
        error: 'temporarily_unavailable',
      });
      expect(logger.lines.some((l) => l.level === 'error')).toBe(true);
      expect(resourceLogger.lines.some((l) => l.level === 'error')).toBe(true);

      await redis.restart();
      await new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', resolve)));
      expect((await atServer()).status).toBe(200);
      expect((await atResource()).status).toBe(200);
    } finally {
      await api.close();
      issuer.closeAllConnections();
      await new Promise((resolve) => issuer.close(resolve));
      await disconnectClient(client);
      await redis.stop();
    }
  }, 30_000);
});
