// The demo's cookie session and form helpers, shared by the examples (basic, mcp).
'use strict';
const { randomBytes, timingSafeEqual } = require('node:crypto');

// A tiny cookie session, enough for a demo: a real app uses its own session middleware.
function sessionStore() {
  const sessions = new Map();
  function create(req, res) {
    const session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      approved: new Set(),
    };
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

const sameString = (a, b) =>
  typeof a === 'string' && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
// Only local paths: `next` must never send the user to another site.
const localPath = (next) => (typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/');

/**
 * The authorize hooks of the demos (sign-in and consent pages of this session, OpenID
 * Connect's prompt and re-authentication honoured). `clientName(client)` is what the consent
 * page calls the client.
 */
function authorizeHooks(sessions, clientName) {
  return {
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
      session.pending = { clientName: clientName(client), scopes, key, next: resumeUrl };
      res.redirect('/consent');
      return undefined;
    },
  };
}

/** The sign-in and consent pages (GET and POST /login, /consent) on an Express app. */
function signInPages(app, { sessions, users }) {
  const express = require('express');
  const pages = require('./pages');
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  app.get('/login', (req, res) => {
    const session = sessions.get(req, res);
    res.type('html').send(pages.signInPage({ next: localPath(req.query.next), csrf: session.csrf }));
  });
  app.post('/login', form, async (req, res, next) => {
    try {
      const session = sessions.get(req, res);
      if (!sameString(req.body.csrf, session.csrf))
        return res.status(403).type('text').send('Stale form: reload the page and try again.\n');
      const target = localPath(req.body.next);
      const user = await users.authenticate(String(req.body.username ?? ''), String(req.body.password ?? ''));
      if (!user) {
        return res
          .status(401)
          .type('html')
          .send(
            pages.signInPage({
              next: target,
              csrf: session.csrf,
              username: req.body.username,
              error: 'Wrong e-mail or password.',
            }),
          );
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
    const { clientName, scopes } = session.pending;
    res.type('html').send(pages.consentPage({ clientName, scopes, user: session.user, csrf: session.csrf }));
  });
  app.post('/consent', form, (req, res) => {
    const session = sessions.get(req, res);
    const pending = session.pending;
    if (!session.user || !pending) return res.status(400).type('text').send('There is nothing to approve.\n');
    if (!sameString(req.body.csrf, session.csrf))
      return res.status(403).type('text').send('Stale form: reload the page and try again.\n');
    session.pending = undefined;
    if (req.body.decision === 'approve') session.approved.add(pending.key);
    else session.denied = pending.key;
    res.redirect(303, localPath(pending.next));
  });
}

module.exports = { sessionStore, sameString, localPath, authorizeHooks, signInPages };
