// The demo app: tokengate on the in-memory store, plus the app's own sign-in and consent
// pages and a single-page client that runs the authorization code flow with PKCE.
'use strict';
const express = require('express');
const { oauthServer, memoryStores } = require('tokengate');
const pages = require('./pages');
const { sessionStore, authorizeHooks, signInPages } = require('./session');

const CLIENT_NAMES = { 'demo-spa': 'Demo single-page app' };

/** Build the demo for this public base URL (also the issuer). */
function createDemo({ issuer }) {
  const redirectUri = `${issuer}/client`;
  const stores = memoryStores({
    clients: [
      { id: 'web-app', secret: 'web-secret', grants: ['client_credentials', 'password', 'refresh_token'], scopes: ['read', 'write'] },
      // A public client (no secret), as a browser app must be: PKCE protects its codes.
      // It signs users in with OpenID Connect too, and may send them back here after logout.
      {
        id: 'demo-spa',
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'email', 'read', 'write'],
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [redirectUri],
      },
    ],
    users: [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland', name: 'Alice Liddell', email: 'alice@example.com' }],
  });
  const sessions = sessionStore();

  // The demo uses ephemeral keys (tokengate warns about them); real apps pass options.keys.
  const oauth = oauthServer(stores, {
    issuer,
    authorize: authorizeHooks(sessions, (client) => CLIENT_NAMES[client.id] ?? client.id),
    // OpenID Connect: ID tokens, UserInfo, discovery and logout.
    openid: {
      claims: (user) => ({ name: user.name, email: user.email, email_verified: true }),
      logout: (req, res) => sessions.end(req, res),
    },
  });

  const app = express();
  app.use(oauth);
  app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
    res.json({ sub: req.auth.sub, client_id: req.auth.clientId, scope: req.auth.scope });
  });
  app.get('/', (_req, res) => res.type('html').send(pages.homePage()));

  signInPages(app, { sessions, users: stores.users });

  app.get('/client', (_req, res) => {
    res.type('html').send(
      pages.clientPage({
        issuer,
        clientId: 'demo-spa',
        redirectUri,
        scope: 'openid profile email read write',
        authorizeUrl: `${issuer}/oauth/authorize`,
        tokenUrl: `${issuer}/oauth/token`,
        apiUrl: `${issuer}/api/me`,
        jwksUrl: `${issuer}/oauth/jwks`,
        userinfoUrl: `${issuer}/oauth/userinfo`,
        endSessionUrl: `${issuer}/oauth/logout`,
      }),
    );
  });

  return { app, oauth, stores };
}

module.exports = { createDemo };
