/**
 * The demo of examples/basic: the app's own sign-in (express-session), sign-out and consent
 * pages around the authorization code flow, through real HTTP with a cookie-keeping agent; and
 * `npm start`'s server printing the URL to open, with its signing keys in a key file that makes
 * tokens outlive a restart.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { pkcePair } from '../support/authorization-code';
import { demoApp, keysDir, startDemo } from '../support/demo';
import { freePort } from '../support/ports';

// The example requires 'tokengate' as an app would; here that is the source under test.
jest.mock('tokengate', () => jest.requireActual('../../src'), { virtual: true });

const ISSUER = 'http://localhost:4321';
const REDIRECT = `${ISSUER}/client`;

const opened: (() => void)[] = [];
afterAll(() => opened.forEach((close) => close()));

/** The demo app, with its keys in a key file of its own: tokengate has nothing to warn about. */
function demo(): Parameters<typeof request>[0] {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const { app, close } = demoApp(ISSUER);
    opened.push(close);
    expect(warn).not.toHaveBeenCalled();
    return app;
  } finally {
    warn.mockRestore();
  }
}

const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string;
const path = (location: string | undefined): string => {
  const url = new URL(location as string, ISSUER);
  return url.pathname + url.search;
};

function authorizePath(state = 'demo-state'): { url: string; verifier: string } {
  const { verifier, challenge } = pkcePair();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-spa',
    redirect_uri: REDIRECT,
    scope: 'read write',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return { url: `/oauth/authorize?${query}`, verifier };
}

/** Sign in through the demo's form, starting from an authorization request; returns where the sign-in sent the browser. */
async function signIn(agent: ReturnType<typeof request.agent>, authorizeUrl: string, password = 'wonderland') {
  const toLogin = await agent.get(authorizeUrl);
  expect(toLogin.status).toBe(302);
  const loginPage = await agent.get(path(toLogin.headers.location));
  expect(loginPage.status).toBe(200);
  const next = /name="next" value="([^"]+)"/.exec(loginPage.text)?.[1]?.replace(/&amp;/g, '&') as string;
  return agent
    .post('/login')
    .type('form')
    .send({ csrf: csrfOf(loginPage.text), next, username: 'alice@example.com', password });
}

describe('examples/basic: sign-in and consent pages around the code flow', () => {
  test('sign in, approve, and the plain redirect back to the authorize URL ends at the client with a code that redeems (RFC 6749 §4.1)', async () => {
    const agent = request.agent(demo());
    const { url, verifier } = authorizePath();
    const signedIn = await signIn(agent, url);
    expect(signedIn.status).toBe(303);
    expect(path(signedIn.headers.location)).toBe(url);

    const toConsent = await agent.get(url);
    expect(path(toConsent.headers.location)).toBe('/consent');
    const consent = await agent.get('/consent');
    expect(consent.text).toContain('Demo single-page app');
    expect(consent.text).toContain('alice@example.com');
    const approved = await agent
      .post('/consent')
      .type('form')
      .send({ csrf: csrfOf(consent.text), decision: 'approve' });
    expect(path(approved.headers.location)).toBe(url);

    const done = await agent.get(url);
    expect(done.status).toBe(302);
    const back = new URL(done.headers.location as string);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('demo-state');
    expect(back.searchParams.get('iss')).toBe(ISSUER);
    const tokens = await agent
      .post('/oauth/token')
      .type('form')
      .send({
        grant_type: 'authorization_code',
        client_id: 'demo-spa',
        code: back.searchParams.get('code'),
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
    expect(tokens.status).toBe(200);
    const me = await agent.get('/api/me').set('Authorization', `Bearer ${tokens.body.access_token}`);
    expect(me.body).toEqual({ sub: 'user-alice', client_id: 'demo-spa', scope: ['read', 'write'] });
  });

  test('deny on the consent page sends access_denied to the client with state and iss', async () => {
    const agent = request.agent(demo());
    const { url } = authorizePath('deny-state');
    await signIn(agent, url);
    await agent.get(url);
    const consent = await agent.get('/consent');
    await agent
      .post('/consent')
      .type('form')
      .send({ csrf: csrfOf(consent.text), decision: 'deny' });
    const back = new URL((await agent.get(url)).headers.location as string);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('deny-state');
    expect(back.searchParams.get('iss')).toBe(ISSUER);
  });

  test('a wrong password shows the sign-in page again with an error', async () => {
    const agent = request.agent(demo());
    const res = await signIn(agent, authorizePath().url, 'not-the-password');
    expect(res.status).toBe(401);
    expect(res.text).toContain('Wrong e-mail or password.');
    expect(path((await agent.get(authorizePath().url)).headers.location)).toMatch(/^\/login\?/);
  });

  test('the sign-in and consent forms refuse a request without the session’s CSRF token', async () => {
    const agent = request.agent(demo());
    await agent.get('/login');
    const login = await agent
      .post('/login')
      .type('form')
      .send({ username: 'alice@example.com', password: 'wonderland', next: '/' });
    expect(login.status).toBe(403);
    const { url } = authorizePath();
    await signIn(agent, url);
    await agent.get(url);
    const consent = await agent.post('/consent').type('form').send({ decision: 'approve', csrf: 'forged' });
    expect(consent.status).toBe(403);
  });

  test('sign-in never redirects off-site, whatever next says (no open redirect)', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const agent = request.agent(demo());
      const page = await agent.get('/login?next=' + encodeURIComponent(next));
      const res = await agent
        .post('/login')
        .type('form')
        .send({ csrf: csrfOf(page.text), next, username: 'alice@example.com', password: 'wonderland' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
    }
  });

  test('sign-in gives the browser a new session id (no session fixation)', async () => {
    const agent = request.agent(demo());
    const page = await agent.get('/login');
    const before = /demo_sid=([^;]+)/.exec(String(page.headers['set-cookie']))?.[1];
    const res = await agent
      .post('/login')
      .type('form')
      .send({ csrf: csrfOf(page.text), next: '/', username: 'alice@example.com', password: 'wonderland' });
    const after = /demo_sid=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];
    expect(before).toEqual(expect.any(String));
    expect(after).toEqual(expect.any(String));
    expect(after).not.toBe(before);
  });

  test('the pages escape what they echo', async () => {
    const res = await request(demo()).get('/login?next=' + encodeURIComponent('/"><script>alert(1)</script>'));
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain('&quot;&gt;&lt;script&gt;');
  });
});

describe('examples/basic: signing out of the site', () => {
  test('GET /logout only asks; POST /logout with the form token ends the session (a new sign-in is needed)', async () => {
    const agent = request.agent(demo());
    const { url } = authorizePath();
    await signIn(agent, url);
    const home = await agent.get('/');
    expect(home.text).toContain('Signed in as <strong>Alice Liddell</strong> (alice@example.com)');
    const ask = await agent.get('/logout');
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Sign out?');
    expect((await agent.get('/')).text).toContain('Signed in as'); // asking signed nobody out
    const forged = await agent.post('/logout').type('form').send({ csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('This form has expired');
    const out = await agent
      .post('/logout')
      .type('form')
      .send({ csrf: csrfOf(ask.text) });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/?signed-out');
    const after = await agent.get('/?signed-out');
    expect(after.text).toContain('You are signed out.');
    expect(after.text).toContain('Not signed in');
    expect(path((await agent.get(url)).headers.location)).toMatch(/^\/login\?/);
  });

  test('the consent page shows who is signed in, Allow as the primary button and Deny as the secondary one', async () => {
    const agent = request.agent(demo());
    const { url } = authorizePath();
    await signIn(agent, url);
    await agent.get(url);
    const consent = await agent.get('/consent');
    expect(consent.text).toContain('Signed in as <strong>Alice Liddell</strong>');
    expect(consent.text).toContain(
      '<button class="primary" type="submit" name="decision" value="approve">Allow</button>',
    );
    expect(consent.text).toContain(
      '<button class="secondary" type="submit" name="decision" value="deny">Deny</button>',
    );
  });

  test('an error the user can meet is said in words on an HTML page, not as a code', async () => {
    const res = await request.agent(demo()).get('/consent');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('No app is waiting for your approval.');
  });
});

describe('npm start', () => {
  test('examples/basic/server.js prints the URL to open, and the client page is there', async () => {
    const demoProcess = await startDemo();
    try {
      const url = /Open (http:\/\/localhost:\d+\/client)/.exec(demoProcess.output())?.[1];
      expect(url).toBe(`${demoProcess.url}/client`);
      const page = await fetch((url as string).replace('localhost', '127.0.0.1'));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('demo-spa');
      // The built package serves the authorization endpoint: not signed in, so off to /login.
      const base = new URL((url as string).replace('localhost', '127.0.0.1')).origin;
      const { url: authorize } = authorizePath();
      const start = await fetch(
        base + authorize.replace(encodeURIComponent(REDIRECT), encodeURIComponent(url as string)),
        { redirect: 'manual' },
      );
      expect(start.status).toBe(302);
      expect(start.headers.get('location')).toMatch(/^\/login\?next=/);
    } finally {
      await demoProcess.stop();
    }
  }, 40_000);
  test('npm start makes its signing keys once (a private, git-ignored key file), and tokens stay valid across a restart', async () => {
    const keys = keysDir();
    // One port for both runs: the issuer (and so every token's iss) is the demo's URL.
    const port = freePort();
    try {
      const first = await startDemo(keys.file, port);
      let token: string;
      try {
        expect(first.output()).toContain(`Signing keys: ${keys.file} (created now`);
        expect(first.output()).not.toMatch(/ephemeral/);
        expect(statSync(keys.file).mode & 0o777).toBe(0o600);
        const set = JSON.parse(readFileSync(keys.file, 'utf8')) as { keys: { alg: string; d?: string }[] };
        expect(set.keys.map((k) => [k.alg, typeof k.d])).toEqual([
          ['ES256', 'string'],
          ['RS256', 'string'],
        ]);
        const base = first.url.replace('localhost', '127.0.0.1');
        const issued = await fetch(`${base}/oauth/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from('web-app:web-secret').toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials&scope=read',
        });
        token = ((await issued.json()) as { access_token: string }).access_token;
      } finally {
        await first.stop();
      }
      const second = await startDemo(keys.file, port);
      try {
        expect(second.output()).toContain(`Signing keys: ${keys.file} (loaded)`);
        const base = second.url.replace('localhost', '127.0.0.1');
        const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
        expect(me.status).toBe(200);
        expect(await me.json()).toEqual({ sub: 'web-app', client_id: 'web-app', scope: ['read'] });
      } finally {
        await second.stop();
      }
    } finally {
      keys.remove();
    }
  }, 80_000);

  test('the default key file is git-ignored, so the demo key is never committed', () => {
    const root = join(__dirname, '..', '..');
    expect(() =>
      execFileSync('git', ['check-ignore', '-q', 'examples/basic/.data/signing-keys.json'], { cwd: root }),
    ).not.toThrow();
  });
});
