// The demos' sign-in session (express-session), and the sign-in, sign-out and consent pages
// around it, shared by the examples (basic, mcp). Copy the shape, not the MemoryStore: a real
// app keeps its sessions in its own store (Redis, its database) with a stable secret.
'use strict';
const { randomBytes, timingSafeEqual } = require('node:crypto');
const express = require('express');
const session = require('express-session');
const pages = require('./pages');

/**
 * The session middleware: mount it before tokengate, so that the authorize hooks see
 * `req.session`. The secret signs the cookie; a random one per start is enough here because
 * the MemoryStore forgets every session on restart anyway.
 */
function demoSession({ secure = false } = {}) {
  return session({
    name: 'demo_sid',
    secret: randomBytes(32).toString('base64url'),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure },
  });
}

/** The form token of this session (created on first use): every POST must send it back. */
function csrfOf(req) {
  req.session.csrf ??= randomBytes(24).toString('base64url');
  return req.session.csrf;
}

const sameString = (a, b) =>
  typeof a === 'string' &&
  typeof b === 'string' &&
  a.length === b.length &&
  timingSafeEqual(Buffer.from(a), Buffer.from(b));
// Only local paths: `next` must never send the user to another site.
const localPath = (next) => (typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/');

/** Who is signed in, for the page header: `{ user, csrf }`, or `{}` when nobody is. */
function viewer(req) {
  return req.session.user ? { user: req.session.user } : {};
}

/** Sign out: forget the session and its cookie (the sign-out page and RP-Initiated Logout end up here). */
function endSession(req, res) {
  return new Promise((resolve, reject) =>
    req.session.destroy((err) => {
      if (err) return reject(err);
      res.clearCookie('demo_sid');
      resolve();
    }),
  );
}

/**
 * The authorize hooks of the demos (sign-in and consent pages of this session, OpenID
 * Connect's prompt and re-authentication honoured). `clientName(client)` is what the consent
 * page calls the client.
 */
function authorizeHooks(clientName) {
  return {
    // Signed in (and recently enough, if the client asked)? Then say who and since when.
    // Otherwise off to the sign-in page, which comes back to resumeUrl; with prompt=none
    // no page may be shown, so just say nobody is signed in (the client gets login_required).
    authenticate(req, res, { resumeUrl, prompt, reauthenticate }) {
      const { user, signedInAt } = req.session;
      if (user && !reauthenticate) return { user, authTime: signedInAt, amr: ['pwd'] };
      if (prompt.includes('none')) return undefined;
      res.redirect('/login?next=' + encodeURIComponent(resumeUrl));
      return undefined;
    },
    // Approved before (this session)? Otherwise ask on the consent page, which records the
    // decision and comes back here (not under prompt=none: consent_required instead).
    consent(req, res, { client, scopes, resumeUrl, prompt }) {
      const s = req.session;
      const key = `${client.id} ${scopes.join(' ')}`;
      if ((s.approved ?? []).includes(key) && !prompt.includes('consent')) return true;
      if (s.denied === key) {
        s.denied = undefined;
        return false;
      }
      if (prompt.includes('none')) return undefined;
      s.pending = { clientName: clientName(client), scopes, key, next: resumeUrl };
      res.redirect('/consent');
      return undefined;
    },
  };
}

// A form posted without this session's token: an old tab, or another site posting here.
function staleForm(req, res) {
  res
    .status(403)
    .type('html')
    .send(
      pages.messagePage({
        ...viewer(req),
        title: 'This form has expired',
        message:
          'The page was open for too long, or it came from somewhere else. Go back, reload the page and try again.',
      }),
    );
}

function nothingToApprove(req, res) {
  res
    .status(400)
    .type('html')
    .send(
      pages.messagePage({
        ...viewer(req),
        title: 'Nothing to approve',
        message: 'No app is waiting for your approval. Start again from the app you were using.',
      }),
    );
}

/** The sign-in, sign-out and consent pages (GET and POST /login, /logout, /consent) on an Express app. */
function signInPages(app, { users }) {
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  app.get('/login', (req, res) => {
    res.type('html').send(pages.signInPage({ ...viewer(req), next: localPath(req.query.next), csrf: csrfOf(req) }));
  });
  app.post('/login', form, async (req, res, next) => {
    try {
      if (!sameString(req.body.csrf, req.session.csrf)) return staleForm(req, res);
      const target = localPath(req.body.next);
      const found = await users.authenticate(String(req.body.username ?? ''), String(req.body.password ?? ''));
      if (!found) {
        return res
          .status(401)
          .type('html')
          .send(
            pages.signInPage({
              next: target,
              csrf: csrfOf(req),
              username: req.body.username,
              error: 'Wrong e-mail or password.',
            }),
          );
      }
      const pending = req.session.pending;
      // A new session id at sign-in, so an id planted before sign-in is worth nothing after.
      req.session.regenerate((err) => {
        if (err) return next(err);
        req.session.user = { id: found.id, username: found.username, name: found.name, email: found.email };
        req.session.signedInAt = Math.floor(Date.now() / 1000);
        req.session.pending = pending;
        csrfOf(req);
        res.redirect(303, target);
      });
    } catch (err) {
      next(err);
    }
  });

  // Signing out changes state, so it is a POST with the form token; GET asks first.
  app.get('/logout', (req, res) => {
    if (!req.session.user) return res.redirect(303, '/');
    res.type('html').send(pages.signOutPage({ ...viewer(req), csrf: csrfOf(req) }));
  });
  app.post('/logout', form, async (req, res, next) => {
    try {
      if (!sameString(req.body.csrf, req.session.csrf)) return staleForm(req, res);
      await endSession(req, res);
      res.redirect(303, '/?signed-out');
    } catch (err) {
      next(err);
    }
  });

  app.get('/consent', (req, res) => {
    const { user, pending } = req.session;
    if (!user || !pending) return nothingToApprove(req, res);
    const { clientName, scopes } = pending;
    res.type('html').send(pages.consentPage({ user, clientName, scopes, csrf: csrfOf(req) }));
  });
  app.post('/consent', form, (req, res) => {
    const s = req.session;
    const pending = s.pending;
    if (!s.user || !pending) return nothingToApprove(req, res);
    if (!sameString(req.body.csrf, s.csrf)) return staleForm(req, res);
    s.pending = undefined;
    if (req.body.decision === 'approve') s.approved = [...(s.approved ?? []), pending.key];
    else s.denied = pending.key;
    res.redirect(303, localPath(pending.next));
  });
}

module.exports = { demoSession, csrfOf, sameString, localPath, viewer, endSession, authorizeHooks, signInPages };
