// The demo's own pages: plain server-rendered HTML. Sign-in, consent and the client page are
// the app's business, not tokengate's; they are here to show the authorization code flow.
'use strict';

const escapeHtml = (value) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

const style = `:root{--accent:#0b57d0;--line:#d9dde3}
body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:0 1rem 3rem;color:#1f2328}
header.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.75rem 0;margin-bottom:1.5rem;border-bottom:1px solid var(--line);font-size:.9rem;color:#57606a}
header.bar a{color:inherit}header.bar .brand{font-weight:600;color:#1f2328;text-decoration:none}
header.bar button{margin:0 0 0 .5rem;padding:.25rem .8rem;font-size:.9rem}
label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.5rem;font:inherit;box-sizing:border-box;border:1px solid var(--line);border-radius:6px}
button{font:inherit;padding:.55rem 1.3rem;margin:1rem .5rem 0 0;border-radius:6px;cursor:pointer}
.primary{background:var(--accent);border:1px solid var(--accent);color:#fff;font-weight:600}
.primary:hover{background:#0842a0}
.secondary{background:#fff;border:1px solid var(--line);color:#1f2328}
.secondary:hover{background:#f3f4f6}
.error{color:#b3261e;background:#fdecea;border:1px solid #f5c2c0;border-radius:6px;padding:.6rem .8rem}
.notice{background:#eef4ff;border:1px solid #c9dafc;border-radius:6px;padding:.6rem .8rem}
details{margin-top:.5rem;font-size:.85rem;color:#57606a}
section.block{border:1px solid var(--line);border-radius:8px;margin:1rem 0;overflow:hidden}
section.block h2{font-size:1rem;margin:0;padding:.5rem .75rem;background:#f6f8fa;border-bottom:1px solid var(--line)}
section.block h2 small{display:block;font-weight:normal;color:#57606a;font-size:.8rem}
pre{margin:0;padding:.75rem;overflow:auto;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
code{font-size:.9em}`;

/**
 * A page of the demo site. `user`: who is signed in, for the header ("signed in as ... / sign
 * out"); the demo client's page has its own sign-in state and passes none.
 */
function layout(title, body, { user, site = true } = {}) {
  const who = user
    ? `<span id="signed-in-as">Signed in as <strong>${escapeHtml(user.name ?? user.username ?? user.id)}</strong>${user.email ? ` (${escapeHtml(user.email)})` : ''} · <a href="/logout">Sign out</a></span>`
    : '<span>Not signed in</span>';
  const header = site ? `<header class="bar"><a class="brand" href="/">tokengate demo</a>${who}</header>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)} · tokengate demo</title><style>${style}</style></head>
<body>${header}${body}</body></html>`;
}

function homePage({ user, signedOut = false } = {}) {
  return layout(
    'Home',
    `<h1>tokengate demo</h1>
${signedOut ? '<p class="notice" role="status">You are signed out.</p>' : ''}
<p><a href="/client">Open the demo client</a>: a single-page app that signs you in with the
authorization code flow and PKCE, then calls a protected API.</p>
<p>The token endpoint also takes the curl requests printed on the console.</p>`,
    { user },
  );
}

/** A page that only says something: a stale form, nothing to approve. */
function messagePage({ user, title, message }) {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(message)}</p><p><a href="/">Back to the start</a></p>`,
    {
      user,
    },
  );
}

function signInPage({ user, next, csrf, error, username = '' }) {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>E-mail <input name="username" type="email" autocomplete="username" value="${escapeHtml(username)}" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button class="primary" type="submit">Sign in</button>
</form>
<p><small>Demo user: alice@example.com / wonderland</small></p>`,
    { user },
  );
}

function signOutPage({ user, csrf }) {
  return layout(
    'Sign out',
    `<h1>Sign out?</h1>
<p>You are signed in to the tokengate demo as <strong>${escapeHtml(user.email ?? user.username ?? user.id)}</strong>.
Apps you allowed keep the tokens they already have until those expire.</p>
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button class="primary" type="submit">Sign out</button>
<a href="/">Stay signed in</a>
</form>`,
    { user },
  );
}

const SCOPE_TEXT = {
  openid: 'Sign you in',
  profile: 'Know your name',
  email: 'Know your e-mail address',
  read: 'Read your profile',
  write: 'Change your data',
};

function consentPage({ clientName, scopes, user, csrf }) {
  const items = scopes
    .map((s) => `<li><strong>${escapeHtml(s)}</strong>: ${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`)
    .join('');
  return layout(
    'Allow access?',
    `<h1>Allow access?</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks to act for <strong>${escapeHtml(user.username ?? user.id)}</strong>:</p>
<ul>${items}</ul>
<form method="post" action="/consent">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button class="primary" type="submit" name="decision" value="approve">Allow</button>
<button class="secondary" type="submit" name="decision" value="deny">Deny</button>
</form>`,
    { user },
  );
}

// The client runs entirely in the browser, as a public client: PKCE (S256), state, the iss
// check of RFC 9207 before it trusts the code, and OpenID Connect: a nonce, and the ID token
// checked (RS256 signature against the JWKS, iss, aud, exp, nonce) before its claims are shown.
// Errors are told to the user in words; the OAuth error code is under "Technical details".
const clientScript = `
const cfg = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);
const show = (id, text) => { $(id).hidden = false; $(id).textContent = text; };
const reveal = (id, text) => { $(id + '-block').hidden = false; $(id).textContent = text; };
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const fromB64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const random = () => b64url(crypto.getRandomValues(new Uint8Array(16)));
const short = (t) => (t ? t.slice(0, 16) + '…' : t);

// What the user reads for each OAuth error code (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6).
const HUMAN = {
  access_denied: 'You chose not to allow the demo client. Nothing was shared with it.',
  login_required: 'You are not signed in, so a silent sign-in is not possible. Use “Sign in with tokengate”.',
  consent_required: 'The demo client needs your approval first. Use “Sign in with tokengate”.',
  interaction_required: 'Signing in needs you on the sign-in page. Use “Sign in with tokengate”.',
  invalid_grant: 'That sign-in has expired or was already used. Please sign in again.',
  server_error: 'The sign-in service had a problem. Please try again in a moment.',
  temporarily_unavailable: 'The sign-in service is busy. Please try again in a moment.',
};
class SignInError extends Error {
  constructor(message, code, description) { super(message); this.code = code; this.description = description; }
}
const oauthError = (code, description) =>
  new SignInError(HUMAN[code] || 'Signing in did not work. Please try again.', code, description);

function fail(e) {
  show('status', e.message);
  $('status').className = 'error';
  if (e.code) {
    $('error-details').hidden = false;
    $('error-code').textContent = e.code + (e.description ? ': ' + e.description : '');
  }
}
function signedIn(who) {
  $('who').innerHTML = '';
  const strong = document.createElement('strong');
  strong.textContent = who;
  $('who').append('Signed in as ', strong);
  $('sign-out').hidden = false;
}

async function signIn(prompt) {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random();
  const nonce = random();
  sessionStorage.setItem('demo-pkce', JSON.stringify({ verifier, state, nonce }));
  const query = new URLSearchParams({ response_type: 'code', client_id: cfg.clientId, redirect_uri: cfg.redirectUri,
    scope: cfg.scope, state, nonce, code_challenge: challenge, code_challenge_method: 'S256' });
  if (prompt) query.set('prompt', prompt);
  location.assign(cfg.authorizeUrl + '?' + query);
}

// OpenID Connect Core 3.1.3.7: the checks a client makes before it believes an ID token.
async function checkIdToken(idToken, nonce) {
  const [h, p, sig] = idToken.split('.');
  const header = JSON.parse(new TextDecoder().decode(fromB64url(h)));
  const claims = JSON.parse(new TextDecoder().decode(fromB64url(p)));
  const { keys } = await (await fetch(cfg.jwksUrl)).json();
  const jwk = keys.find((k) => k.kid === header.kid);
  if (header.alg !== 'RS256' || !jwk) throw new Error('The ID token is not signed with a key of the server.');
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, fromB64url(sig), new TextEncoder().encode(h + '.' + p));
  if (!ok) throw new Error('The ID token signature does not verify.');
  if (claims.iss !== cfg.issuer || claims.aud !== cfg.clientId) throw new Error('The ID token is not for this client.');
  if (claims.nonce !== nonce) throw new Error('The ID token nonce does not match this sign-in.');
  if (claims.exp * 1000 < Date.now()) throw new Error('The ID token has expired.');
  return claims;
}

async function finish(params) {
  const saved = JSON.parse(sessionStorage.getItem('demo-pkce') || 'null');
  sessionStorage.removeItem('demo-pkce');
  history.replaceState(null, '', location.pathname); // the code leaves the address bar
  if (params.get('iss') !== cfg.issuer) throw new Error('The answer did not come from our sign-in service. Please sign in again.');
  if (!saved || params.get('state') !== saved.state) throw new Error('This sign-in was started in another tab or has expired. Please sign in again.');
  if (params.get('error')) throw oauthError(params.get('error'), params.get('error_description'));
  show('status', 'Got a code; exchanging it for tokens…');
  const tokenRes = await fetch(cfg.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: cfg.redirectUri,
      client_id: cfg.clientId, code_verifier: saved.verifier }) });
  const tokens = await tokenRes.json();
  if (!tokenRes.ok) throw oauthError(tokens.error, tokens.error_description);
  const claims = await checkIdToken(tokens.id_token, saved.nonce);
  sessionStorage.setItem('demo-id-token', tokens.id_token);
  reveal('tokens', JSON.stringify({ ...tokens, access_token: short(tokens.access_token), refresh_token: short(tokens.refresh_token), id_token: short(tokens.id_token) }, null, 2));
  reveal('id-token', JSON.stringify(claims, null, 2));
  const userinfoRes = await fetch(cfg.userinfoUrl, { headers: { Authorization: 'Bearer ' + tokens.access_token } });
  const userinfo = await userinfoRes.json();
  if (userinfo.sub !== claims.sub) throw new Error('The user information is about someone else.');
  reveal('userinfo', JSON.stringify(userinfo, null, 2));
  const meRes = await fetch(cfg.apiUrl, { headers: { Authorization: 'Bearer ' + tokens.access_token } });
  reveal('me', JSON.stringify(await meRes.json(), null, 2));
  signedIn(userinfo.name || claims.sub);
  show('status', meRes.ok ? 'Signed in as ' + (userinfo.name || claims.sub) + '. The API accepted the access token.' : 'Signed in, but the API refused the access token.');
}

// RP-Initiated Logout: the server ends its session and sends the browser back here with state.
function signOut() {
  const state = random();
  sessionStorage.setItem('demo-logout', state);
  const query = new URLSearchParams({ id_token_hint: sessionStorage.getItem('demo-id-token') || '', post_logout_redirect_uri: cfg.redirectUri, state });
  sessionStorage.removeItem('demo-id-token');
  location.assign(cfg.endSessionUrl + '?' + query);
}

$('sign-in').addEventListener('click', () => signIn().catch(fail));
$('silent-sign-in').addEventListener('click', () => signIn('none').catch(fail));
$('sign-out').addEventListener('click', signOut);
const params = new URLSearchParams(location.search);
if (params.has('code') || params.has('error')) finish(params).catch(fail);
else if (params.has('state') && params.get('state') === sessionStorage.getItem('demo-logout')) {
  sessionStorage.removeItem('demo-logout');
  history.replaceState(null, '', location.pathname);
  show('status', 'Signed out.');
}
`;

/** One labelled output block of the client page, hidden until filled. */
function block(id, title, what) {
  return `<section class="block" id="${id}-block" hidden><h2>${escapeHtml(title)}<small>${what}</small></h2><pre id="${id}"></pre></section>`;
}

function clientPage(config) {
  // JSON inside <script>: "<" escaped so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return layout(
    'Demo client',
    `<header class="bar"><span class="brand">Demo client</span><span><span id="who">Not signed in</span>
<button id="sign-out" class="secondary" type="button" hidden>Sign out</button></span></header>
<p>A single-page app registered as the public client <code>${escapeHtml(config.clientId)}</code>.
It signs you in at tokengate (authorization code flow, PKCE, OpenID Connect), then calls a protected API.</p>
<button id="sign-in" class="primary" type="button">Sign in with tokengate</button>
<button id="silent-sign-in" class="secondary" type="button">Sign in silently (prompt=none)</button>
<p id="status" role="status" hidden></p>
<details id="error-details" hidden><summary>Technical details</summary><code id="error-code"></code></details>
${block('tokens', 'Token response', 'POST /oauth/token: what the client got for its code (tokens shortened)')}
${block('me', 'API response', 'GET /api/me with the access token: what the protected API answered')}
${block('id-token', 'ID token claims', 'checked by this page: signature, issuer, audience, expiry, nonce')}
${block('userinfo', 'UserInfo response', 'GET /oauth/userinfo with the access token')}
<script type="application/json" id="config">${json}</script>
<script>${clientScript}</script>`,
    { site: false },
  );
}

// The device verification page: a code form, then the request to approve or deny, then done.
function devicePage({ user, csrf, pending, clientName, error, done }) {
  if (done)
    return layout(
      'Device',
      `<h1>Device sign-in</h1><p class="notice" role="status" id="device-done">${escapeHtml(done)}</p>`,
      {
        user,
      },
    );
  const alert = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
  if (!pending) {
    return layout(
      'Device',
      `<h1>Device sign-in</h1>${alert}
<form method="get" action="/device">
<label>Code shown on your device <input name="user_code" autocomplete="off" autocapitalize="characters" placeholder="WDJB-MJHT" required autofocus></label>
<button class="primary" type="submit">Continue</button>
</form>`,
      { user },
    );
  }
  const items = pending.scopes
    .map((s) => `<li><strong>${escapeHtml(s)}</strong>: ${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`)
    .join('');
  return layout(
    'Allow the device?',
    `<h1>Allow the device?</h1>${alert}
<p>Check that your device shows <strong id="device-code">${escapeHtml(pending.userCode)}</strong>.</p>
<p><strong>${escapeHtml(clientName)}</strong> asks to act for <strong>${escapeHtml(user.username ?? user.id)}</strong>:</p>
<ul>${items}</ul>
<form method="post" action="/device">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="user_code" value="${escapeHtml(pending.userCode)}">
<button class="primary" type="submit" name="decision" value="approve">Allow</button>
<button class="secondary" type="submit" name="decision" value="deny">Deny</button>
</form>`,
    { user },
  );
}

module.exports = {
  escapeHtml,
  layout,
  homePage,
  messagePage,
  signInPage,
  signOutPage,
  consentPage,
  clientPage,
  devicePage,
};
