// One instance of a scaled-out app: Express, tokengate on Redis. Run several of these behind
// a load balancer, all with the same REDIS_URL, ISSUER and SIGNING_KEY; start.js does that
// for you (two instances and a throwaway redis-server, one command).
//
// Env: PORT (default 3001), REDIS_URL (default redis://127.0.0.1:6379), ISSUER (the public URL
// every instance shares), SIGNING_KEY (an ES256 private key, PEM, the same on every instance),
// INSTANCE (a name shown in responses).
'use strict';
const express = require('express');
const Redis = require('ioredis');
const { oauthServer, memoryClientStore, memoryUserStore } = require('tokengate');
const { redisTokenStore } = require('tokengate/redis');

const PORT = Number(process.env.PORT ?? 3001);
const NAME = process.env.INSTANCE ?? `instance on port ${PORT}`;
if (!process.env.SIGNING_KEY || !process.env.ISSUER) {
  console.error('Set SIGNING_KEY (an ES256 private key, PEM) and ISSUER, the same on every instance; or run start.js.');
  process.exit(1);
}

// ioredis backs off up to 5 s between reconnects by default; capping it at 1 s means an
// instance is back within about a second of Redis.
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  retryStrategy: (times) => Math.min(times * 100, 1000),
});
client.on('error', () => {}); // the store reports outages (503s, and a log line when the revocation channel drops)
const tokens = redisTokenStore({ client });

// Clients and users are configuration here; in a real app they live in your database.
const clients = memoryClientStore([
  {
    id: 'web-app',
    secret: 'web-secret',
    grants: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['read', 'write'],
  },
]);
const users = memoryUserStore([{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }]);

const oauth = oauthServer(
  { clients, users, tokens },
  { issuer: process.env.ISSUER, keys: [{ kid: 'demo-shared', alg: 'ES256', privateKey: process.env.SIGNING_KEY }] },
);

const app = express();
app.use(oauth); // POST /oauth/token, /oauth/revoke, /oauth/introspect, ...
app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
  res.json({ instance: NAME, sub: req.auth.sub, client_id: req.auth.clientId, scope: req.auth.scope });
});

const server = app.listen(PORT, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  if (process.send) process.send({ type: 'listening', url });
  else console.log(`${NAME} listening on ${url}`);
});

// Let go of Redis and the port on shutdown, so the process exits by itself.
function shutdown() {
  server.close();
  server.closeAllConnections();
  tokens
    .close()
    .then(() => client.quit())
    .catch(() => client.disconnect())
    .finally(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('message', (message) => message?.type === 'stop' && shutdown());
