/**
 * One app instance in its own process, for the scale-out tests: Express 5 with two
 * authorization servers on one shared `redisTokenStore`, the way a deployment runs them:
 *   - `/`        JWT access tokens (signed with the keys both instances share)
 *   - `/opaque`  opaque access tokens (looked up in Redis)
 * each with `/api/me` (scope read) behind its `requireToken()`.
 *
 * Started by `startInstance()` with `fork()`; env: `REDIS_URL`, `TOKENGATE_TEST_KEYS` (JSON
 * KeyInput[]), `INSTANCE` (a name for the log). Sends `{ type: 'listening', port }` over IPC.
 * Nothing here catches errors globally: if anything escapes, the process dies and the test
 * sees it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { memoryClientStore, memoryUserStore, oauthServer, type KeyInput, type Logger } from '../../src';
import { redisReplayStore, redisTokenStore } from '../../src/redis';
import { CLIENTS, USERS } from './spine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const express = require('express');

const name = process.env.INSTANCE ?? 'instance';
const keys = JSON.parse(process.env.TOKENGATE_TEST_KEYS ?? '[]') as KeyInput[];
// Quiet by default; TOKENGATE_TEST_VERBOSE=1 shows what the instance logs (never tokens).
const logger: Logger = process.env.TOKENGATE_TEST_VERBOSE
  ? {
      warn: (m) => console.warn(`[${name}] ${m}`),
      error: (m, d) => console.error(`[${name}] ${m}`, d instanceof Error ? d.message : ''),
    }
  : { warn: () => undefined, error: () => undefined };

// Reconnect quickly after an outage (ioredis's default backs off to 5 s).
const client = new Redis(process.env.REDIS_URL as string, { retryStrategy: (times) => Math.min(times * 100, 1000) });
client.on('error', () => undefined); // reported through the store's 503s and the logger
const tokens = redisTokenStore({ client, logger });
// DPoP proof jtis shared too, so a proof replayed at the other instance is refused.
const replay = redisReplayStore({ client });
const clients = memoryClientStore(CLIENTS);
const users = memoryUserStore(USERS);

const port = Number(process.env.PORT ?? 0);
const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Both instances must share the issuer for each other's JWTs: the test passes it via ISSUER.
  const base = process.env.ISSUER ?? issuer;
  const jwt = oauthServer({ clients, users, tokens, replay }, { issuer: base, keys, logger });
  const opaque = oauthServer(
    { clients, users, tokens, replay },
    { issuer: `${base}/opaque`, keys, logger, accessTokenFormat: 'opaque' },
  );
  const me = (
    req: http.IncomingMessage & { auth?: { sub: string; clientId: string } },
    res: http.ServerResponse,
  ): void => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ instance: name, sub: req.auth?.sub, client_id: req.auth?.clientId }));
  };
  const app = express();
  app.use('/opaque', opaque);
  app.get('/opaque/api/me', opaque.requireToken({ scope: 'read' }), me);
  app.use(jwt);
  app.get('/api/me', jwt.requireToken({ scope: 'read' }), me);
  server.on('request', app);
  process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port });
});

process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'stop') return;
  server.close();
  server.closeAllConnections();
  void tokens
    .close()
    .then(() => client.quit())
    .finally(() => process.exit(0));
});
