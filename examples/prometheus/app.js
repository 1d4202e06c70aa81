// Prometheus metrics for tokengate with prom-client: each event of `oauth.events` becomes a
// counter, and GET /metrics serves them for Prometheus to scrape. Labels are bounded sets
// (grant types, reasons, limit names): never a client id, username or token, which an attacker
// could vary at will to blow up the number of series.
'use strict';
const express = require('express');
const promClient = require('prom-client');
const { oauthServer, memoryStores, generateKeys } = require('tokengate');

/** Counters for the events of `oauth`, registered in `registry`. */
function tokengateMetrics(oauth, registry) {
  const counter = (name, help, labelNames = []) =>
    new promClient.Counter({ name, help, labelNames, registers: [registry] });
  const issued = counter('tokengate_tokens_issued_total', 'Access tokens issued, by grant type.', ['grant_type']);
  const refreshed = counter('tokengate_tokens_refreshed_total', 'Refresh tokens rotated.');
  const revoked = counter('tokengate_tokens_revoked_total', 'Tokens revoked, by type and reason.', [
    'token_type',
    'reason',
  ]);
  const reused = counter(
    'tokengate_token_reuse_detected_total',
    'Rotated refresh tokens or redeemed codes presented again (families revoked): alert on any.',
    ['kind'],
  );
  const clientFailures = counter(
    'tokengate_client_authentication_failures_total',
    'Failed client authentications, by endpoint, method and reason.',
    ['endpoint', 'method', 'reason'],
  );
  const passwordFailures = counter(
    'tokengate_password_failures_total',
    'Wrong usernames or passwords (password grant).',
  );
  const limited = counter('tokengate_limits_reached_total', 'Requests refused by a brute-force limit.', ['limit']);
  const registrations = counter('tokengate_client_registrations_total', 'Dynamic client registration.', ['action']);
  const storeDown = counter('tokengate_store_unavailable_total', 'Requests answered 503: a store was unreachable.', [
    'endpoint',
  ]);

  oauth.events
    .on('token.issued', (e) => issued.inc({ grant_type: e.grantType }))
    .on('token.refreshed', () => refreshed.inc())
    .on('token.revoked', (e) => revoked.inc({ token_type: e.tokenType, reason: e.reason }))
    .on('refresh_token.reuse_detected', () => reused.inc({ kind: 'refresh_token' }))
    .on('authorization_code.reuse_detected', () => reused.inc({ kind: 'authorization_code' }))
    .on('client.authentication_failed', (e) =>
      clientFailures.inc({ endpoint: e.endpoint, method: e.method ?? 'none', reason: e.reason }),
    )
    .on('password.failed', () => passwordFailures.inc())
    .on('limit.reached', (e) => limited.inc({ limit: e.limit }))
    .on('client.registered', () => registrations.inc({ action: 'registered' }))
    .on('client.updated', () => registrations.inc({ action: 'updated' }))
    .on('client.deleted', () => registrations.inc({ action: 'deleted' }))
    .on('store.unavailable', (e) => storeDown.inc({ endpoint: e.endpoint }));
}

/**
 * The app: tokengate, a protected route, and /metrics. Real apps serve /metrics on an internal
 * port or behind authentication, and add `promClient.collectDefaultMetrics({ register: registry })`
 * for the process's own metrics.
 */
function createApp({ issuer = 'http://localhost:3002', keys = generateKeys().keys } = {}) {
  const registry = new promClient.Registry();
  const oauth = oauthServer(
    memoryStores({
      clients: [
        {
          id: 'web-app',
          secret: 'web-secret',
          grants: ['client_credentials', 'password', 'refresh_token'],
          scopes: ['read'],
        },
      ],
      users: [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }],
    }),
    { issuer, keys },
  );
  tokengateMetrics(oauth, registry);

  const app = express();
  app.use(oauth);
  app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => res.json({ sub: req.auth.sub }));
  app.get('/metrics', async (req, res) => {
    res.set('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  });
  return { app, oauth, registry };
}

module.exports = { createApp, tokengateMetrics };
