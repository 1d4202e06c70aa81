// The demo's own pages: plain server-rendered HTML. Sign-in, consent and the client page are
// the app's business, not tokengate's; they are here to show the authorization code flow.
'use strict';

const escapeHtml = (value) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

const style = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
button{font:inherit;padding:.4rem 1.2rem;margin:1rem .5rem 0 0}.error{color:#b00020}pre{background:#f4f4f4;padding:.75rem;overflow:auto;white-space:pre-wrap;word-break:break-all}`;

function layout(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)} · tokengate demo</title><style>${style}</style></head>
<body>${body}</body></html>`;
}

function homePage() {
  return layout(
    'Home',
    `<h1>tokengate demo</h1>
<p><a href="/client">Open the demo client</a>: a single-page app that signs you in with the
authorization code flow and PKCE, then calls a protected API.</p>
<p>The token endpoint also takes the curl requests printed on the console.</p>`,
  );
}

function signInPage({ next, csrf, error, username = '' }) {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>E-mail <input name="username" type="email" autocomplete="username" value="${escapeHtml(username)}" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<p><small>Demo user: alice@example.com / wonderland</small></p>`,
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
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

// The client runs entirely in the browser, as a public client: PKCE (S256), state, the iss
// check of RFC 9207 before it trusts the code, and OpenID Connect: a nonce, and the ID token
// checked (RS256 signature against the JWKS, iss, aud, exp, nonce) before its claims are shown.
const clientScript = `
const cfg = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);
const show = (id, text) => { $(id).hidden = false; $(id).textContent = text; };
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const fromB64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const random = () => b64url(crypto.getRandomValues(new Uint8Array(16)));
const short = (t) => (t ? t.slice(0, 16) + '…' : t);

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
  if (params.get('iss') !== cfg.issuer) throw new Error('The response is not from our authorization server (iss).');
  if (!saved || params.get('state') !== saved.state) throw new Error('The state does not match this browser tab.');
  if (params.get('error')) throw new Error(params.get('error') + ': ' + (params.get('error_description') || ''));
  show('status', 'Got a code; exchanging it…');
  const tokenRes = await fetch(cfg.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: cfg.redirectUri,
      client_id: cfg.clientId, code_verifier: saved.verifier }) });
  const tokens = await tokenRes.json();
  if (!tokenRes.ok) throw new Error(tokens.error + ': ' + tokens.error_description);
  const claims = await checkIdToken(tokens.id_token, saved.nonce);
  sessionStorage.setItem('demo-id-token', tokens.id_token);
  show('tokens', JSON.stringify({ ...tokens, access_token: short(tokens.access_token), refresh_token: short(tokens.refresh_token), id_token: short(tokens.id_token) }, null, 2));
  show('id-token', JSON.stringify(claims, null, 2));
  const userinfoRes = await fetch(cfg.userinfoUrl, { headers: { Authorization: 'Bearer ' + tokens.access_token } });
  const userinfo = await userinfoRes.json();
  if (userinfo.sub !== claims.sub) throw new Error('UserInfo is about someone else.');
  show('userinfo', JSON.stringify(userinfo, null, 2));
  const meRes = await fetch(cfg.apiUrl, { headers: { Authorization: 'Bearer ' + tokens.access_token } });
  show('me', JSON.stringify(await meRes.json(), null, 2));
  $('sign-out').hidden = false;
  show('status', meRes.ok ? 'Signed in as ' + (userinfo.name || claims.sub) + '.' : 'Signed in, but the API refused the token.');
}

// RP-Initiated Logout: the server ends its session and sends the browser back here with state.
function signOut() {
  const state = random();
  sessionStorage.setItem('demo-logout', state);
  const query = new URLSearchParams({ id_token_hint: sessionStorage.getItem('demo-id-token') || '', post_logout_redirect_uri: cfg.redirectUri, state });
  sessionStorage.removeItem('demo-id-token');
  location.assign(cfg.endSessionUrl + '?' + query);
}

$('sign-in').addEventListener('click', () => signIn().catch((e) => show('status', e.message)));
$('silent-sign-in').addEventListener('click', () => signIn('none').catch((e) => show('status', e.message)));
$('sign-out').addEventListener('click', signOut);
const params = new URLSearchParams(location.search);
if (params.has('code') || params.has('error')) finish(params).catch((e) => show('status', e.message));
else if (params.has('state') && params.get('state') === sessionStorage.getItem('demo-logout')) {
  sessionStorage.removeItem('demo-logout');
  history.replaceState(null, '', location.pathname);
  show('status', 'Signed out.');
}
`;

function clientPage(config) {
  // JSON inside <script>: "<" escaped so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return layout(
    'Demo client',
    `<h1>Demo client</h1>
<p>A single-page app registered as the public client <code>${escapeHtml(config.clientId)}</code>.</p>
<button id="sign-in" type="button">Sign in with tokengate</button>
<button id="silent-sign-in" type="button">Sign in silently (prompt=none)</button>
<button id="sign-out" type="button" hidden>Sign out</button>
<p id="status" role="status" hidden></p>
<h2>ID token claims</h2>
<pre id="id-token" hidden></pre>
<h2>UserInfo</h2>
<pre id="userinfo" hidden></pre>
<h2>Tokens and the protected API</h2>
<pre id="tokens" hidden></pre>
<pre id="me" hidden></pre>
<script type="application/json" id="config">${json}</script>
<script>${clientScript}</script>`,
  );
}

// The device verification page: a code form, then the request to approve or deny, then done.
function devicePage({ csrf, user, pending, clientName, error, done }) {
  if (done) return layout('Device', `<h1>Device sign-in</h1><p role="status" id="device-done">${escapeHtml(done)}</p>`);
  const alert = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
  if (!pending) {
    return layout(
      'Device',
      `<h1>Device sign-in</h1>${alert}
<form method="get" action="/device">
<label>Code shown on your device <input name="user_code" autocomplete="off" autocapitalize="characters" placeholder="WDJB-MJHT" required autofocus></label>
<button type="submit">Continue</button>
</form>`,
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
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

module.exports = { escapeHtml, layout, homePage, signInPage, consentPage, clientPage, devicePage };
