// The demo app: tokengate on the in-memory store, plus the app's own sign-in and consent
// pages and a single-page client that runs the authorization code flow with PKCE.
'use strict';
const { randomBytes, timingSafeEqual } = require('node:crypto');
const express = require('express');
const { oauthServer, memoryStores } = require('tokengate');
const pages = require('./pages');

const CLIENT_NAMES = { 'demo-spa': 'Demo single-page app' };

// A tiny cookie session, enough for a demo: a real app uses its own session middleware.
function sessionStore() {
  const sessions = new Map();
  function create(req, res) {
    const session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), approved: new Set() };
    sessions.set(session.id, session);
    res.setHeader('Set-Cookie', `demo_sid=${session.id}; Path=/; HttpOnly; SameSite=Lax`);
    req.demoSession = session;
    return session;
  }
  return {
    get(req, res) {
      if (req.demoSession) return req.demoSession;
      const sid = /(?:^|;\s*)demo_sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
      const session = sid && sessions.get(sid);
      return session ? (req.demoSession = session) : create(req, res);
    },
    // A new id at sign-in, so a session id planted before sign-in is worth nothing after.
    renew(req, res) {
      const old = this.get(req, res);
      sessions.delete(old.id);
      req.demoSession = undefined;
      const fresh = create(req, res);
      fresh.pending = old.pending;
      return fresh;
    },
    // Sign out: forget the session (RP-Initiated Logout ends up here).
    end(req, res) {
      const session = this.get(req, res);
      sessions.delete(session.id);
      req.demoSession = undefined;
      res.setHeader('Set-Cookie', 'demo_sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    },
  };
}

const sameString = (a, b) => typeof a === 'string' && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
// Only local paths: `next` must never send the user to another site.
const localPath = (next) => (typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/');

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
    authorize: {
      // Signed in (and recently enough, if the client asked)? Then say who and since when.
      // Otherwise off to the sign-in page, which comes back to resumeUrl; with prompt=none
      // no page may be shown, so just say nobody is signed in (the client gets login_required).
      authenticate(req, res, { resumeUrl, prompt, reauthenticate }) {
        const session = sessions.get(req, res);
        if (session.user && !reauthenticate) return { user: session.user, authTime: session.signedInAt, amr: ['pwd'] };
        if (prompt.includes('none')) return undefined;
        res.redirect('/login?next=' + encodeURIComponent(resumeUrl));
        return undefined;
      },
      // Approved before (this session)? Otherwise ask on the consent page, which records the
      // decision and comes back here (not under prompt=none: consent_required instead).
      consent(req, res, { client, scopes, resumeUrl, prompt }) {
        const session = sessions.get(req, res);
        const key = `${client.id} ${scopes.join(' ')}`;
        if (session.approved.has(key) && !prompt.includes('consent')) return true;
        if (session.denied === key) {
          session.denied = undefined;
          return false;
        }
        if (prompt.includes('none')) return undefined;
        session.pending = { clientId: client.id, scopes, key, next: resumeUrl };
        res.redirect('/consent');
        return undefined;
      },
    },
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

  const form = express.urlencoded({ extended: false, limit: '4kb' });
  app.get('/login', (req, res) => {
    const session = sessions.get(req, res);
    res.type('html').send(pages.signInPage({ next: localPath(req.query.next), csrf: session.csrf }));
  });
  app.post('/login', form, async (req, res, next) => {
    try {
      const session = sessions.get(req, res);
      if (!sameString(req.body.csrf, session.csrf)) return res.status(403).type('text').send('Stale form: reload the page and try again.\n');
      const target = localPath(req.body.next);
      const user = await stores.users.authenticate(String(req.body.username ?? ''), String(req.body.password ?? ''));
      if (!user) {
        return res.status(401).type('html').send(pages.signInPage({ next: target, csrf: session.csrf, username: req.body.username, error: 'Wrong e-mail or password.' }));
      }
      const fresh = sessions.renew(req, res);
      fresh.user = user;
      fresh.signedInAt = Math.floor(Date.now() / 1000);
      res.redirect(303, target);
    } catch (err) {
      next(err);
    }
  });

  app.get('/consent', (req, res) => {
    const session = sessions.get(req, res);
    if (!session.user || !session.pending) return res.status(400).type('text').send('There is nothing to approve.\n');
    const { clientId, scopes } = session.pending;
    res.type('html').send(pages.consentPage({ clientName: CLIENT_NAMES[clientId] ?? clientId, scopes, user: session.user, csrf: session.csrf }));
  });
  app.post('/consent', form, (req, res) => {
    const session = sessions.get(req, res);
    const pending = session.pending;
    if (!session.user || !pending) return res.status(400).type('text').send('There is nothing to approve.\n');
    if (!sameString(req.body.csrf, session.csrf)) return res.status(403).type('text').send('Stale form: reload the page and try again.\n');
    session.pending = undefined;
    if (req.body.decision === 'approve') session.approved.add(pending.key);
    else session.denied = pending.key;
    res.redirect(303, localPath(pending.next));
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
