// The demo app: tokengate on the in-memory store, plus the app's own sign-in and consent
// pages and a single-page client that runs the authorization code flow with PKCE.
'use strict';
const express = require('express');
const { oauthServer, memoryStores } = require('tokengate');
const pages = require('./pages');
const { demoSession, csrfOf, sameString, viewer, endSession, authorizeHooks, signInPages } = require('./session');

const CLIENT_NAMES = { 'demo-spa': 'Demo single-page app', 'demo-tv': 'Demo TV app' };

/**
 * Build the demo for this public base URL (also the issuer). `keys`: its signing keys
 * (`options.keys`, see keys.js); without them tokengate makes ephemeral ones and says so.
 */
function createDemo({ issuer, keys }) {
  const redirectUri = `${issuer}/client`;
  const stores = memoryStores({
    clients: [
      {
        id: 'web-app',
        secret: 'web-secret',
        grants: ['client_credentials', 'password', 'refresh_token'],
        scopes: ['read', 'write'],
      },
      // A public client (no secret), as a browser app must be: PKCE protects its codes.
      // It signs users in with OpenID Connect too, and may send them back here after logout.
      {
        id: 'demo-spa',
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'email', 'read', 'write'],
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [redirectUri],
      },
      // A device without a browser (RFC 8628): it shows a code, the user approves on /device.
      {
        id: 'demo-tv',
        grants: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        scopes: ['read', 'write'],
      },
    ],
    users: [
      {
        id: 'user-alice',
        username: 'alice@example.com',
        password: 'wonderland',
        name: 'Alice Liddell',
        email: 'alice@example.com',
      },
    ],
  });
  const oauth = oauthServer(stores, {
    issuer,
    keys,
    // The device flow: the verification page below is the app's, like its sign-in page.
    deviceAuthorization: { verificationUri: '/device' },
    authorize: authorizeHooks((client) => CLIENT_NAMES[client.id] ?? client.id),
    // OpenID Connect: ID tokens, UserInfo, discovery and logout.
    openid: {
      claims: (user) => ({ name: user.name, email: user.email, email_verified: true }),
      logout: (req, res) => endSession(req, res),
    },
  });

  const app = express();
  // The session first: the authorize hooks read req.session.
  app.use(demoSession({ secure: new URL(issuer).protocol === 'https:' }));
  app.use(oauth);
  app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
    res.json({ sub: req.auth.sub, client_id: req.auth.clientId, scope: req.auth.scope });
  });
  app.get('/', (req, res) =>
    res.type('html').send(pages.homePage({ ...viewer(req), signedOut: 'signed-out' in req.query })),
  );

  signInPages(app, { users: stores.users });

  const form = express.urlencoded({ extended: false, limit: '4kb' });
  // The device verification page (RFC 8628 §3.3): sign in, enter (or confirm) the code shown
  // on the device, see who asks for what, approve or deny. oauth.device does the rest,
  // including the limits on wrong codes.
  const deviceError = (req, res, err) => {
    if (err && err.status === 429)
      return res
        .status(429)
        .type('html')
        .send(pages.devicePage({ ...viewer(req), error: 'Too many wrong codes. Wait a few minutes, then try again.' }));
    throw err;
  };
  app.get('/device', async (req, res, next) => {
    try {
      const { user } = req.session;
      if (!user) return res.redirect('/login?next=' + encodeURIComponent(req.originalUrl));
      const csrf = csrfOf(req);
      const typed = typeof req.query.user_code === 'string' ? req.query.user_code : undefined;
      if (typed === undefined) return res.type('html').send(pages.devicePage({ user, csrf }));
      const pending = await oauth.device.lookup(req, typed);
      if (!pending)
        return res
          .status(400)
          .type('html')
          .send(
            pages.devicePage({
              user,
              csrf,
              error: 'That code is not valid, or has expired. Check the code on your device.',
            }),
          );
      res.type('html').send(
        pages.devicePage({
          csrf,
          user,
          pending,
          clientName: CLIENT_NAMES[pending.client.id] ?? pending.client.id,
        }),
      );
    } catch (err) {
      try {
        deviceError(req, res, err);
      } catch (e) {
        next(e);
      }
    }
  });
  app.post('/device', form, async (req, res, next) => {
    try {
      const { user } = req.session;
      if (!user) return res.redirect(303, '/login?next=/device');
      if (!sameString(req.body.csrf, req.session.csrf))
        return res
          .status(403)
          .type('html')
          .send(pages.devicePage({ user, csrf: csrfOf(req), error: 'This form has expired. Enter the code again.' }));
      const code = String(req.body.user_code ?? '');
      const done =
        req.body.decision === 'approve'
          ? await oauth.device.approve(req, code, user)
          : await oauth.device.deny(req, code);
      const message = !done
        ? 'That code is not valid, or has expired.'
        : req.body.decision === 'approve'
          ? 'Done: you can return to your device.'
          : 'Denied: the device gets no access.';
      res
        .status(done ? 200 : 400)
        .type('html')
        .send(pages.devicePage({ user, done: message }));
    } catch (err) {
      try {
        deviceError(req, res, err);
      } catch (e) {
        next(e);
      }
    }
  });

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
