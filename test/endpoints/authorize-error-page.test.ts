/**
 * The authorization endpoint's error page is no client-id oracle and no reflection point
 * (RFC 6749 §4.1.2.1, RFC 9700 §4.11): an unknown client_id and a known one whose redirect URI
 * does not fit get the very same page (still 400, still no redirect), and the page does not
 * echo the client_id it was sent. Real HTTP under Express 4, Express 5 and Connect.
 */
import request from 'supertest';
import {
  AUTHORIZE,
  FRAMEWORKS,
  HOOK_HEADERS,
  SPA_REDIRECT,
  authorizeUrl,
  buildCodeApp,
  pkcePair,
} from '../support/authorization-code';

const PROBE = 'probe-client-7f3a9c';

describe.each(FRAMEWORKS)('the authorize error page under %s', (framework) => {
  const { app } = buildCodeApp(framework);

  async function page(url: string) {
    const res = await request(app).get(url).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const { date: _date, ...headers } = res.headers;
    return { text: res.text, headers };
  }

  const request_ = (params: Record<string, string | undefined>) =>
    authorizeUrl({
      response_type: 'code',
      state: 's',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...params,
    });

  test('an unknown client_id and a known one with an unregistered redirect_uri get the same page (RFC 9700 §4.11)', async () => {
    const unknown = await page(request_({ client_id: PROBE, redirect_uri: 'https://evil.example/cb' }));
    const known = await page(request_({ client_id: 'spa', redirect_uri: 'https://evil.example/cb' }));
    expect(known).toEqual(unknown);
  });

  test('without redirect_uri: unknown, several registered, and none registered all get the same page', async () => {
    const unknown = await page(request_({ client_id: PROBE }));
    expect(await page(request_({ client_id: 'web' }))).toEqual(unknown); // two registered URIs
    expect(await page(request_({ client_id: 'no-redirect' }))).toEqual(unknown); // none registered
    expect(await page(request_({ client_id: 'no-redirect', redirect_uri: 'https://x.example/cb' }))).toEqual(unknown);
  });

  test('a repeated redirect_uri gets the same page for unknown and known clients', async () => {
    const twice = (clientId: string) =>
      `${AUTHORIZE}?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(SPA_REDIRECT)}&redirect_uri=x`;
    expect(await page(twice('spa'))).toEqual(await page(twice(PROBE)));
  });

  test('the page does not echo the client_id it was sent', async () => {
    const { text } = await page(request_({ client_id: PROBE, redirect_uri: 'https://evil.example/cb' }));
    expect(text).not.toContain(PROBE);
    expect(text).not.toContain('evil.example');
    const known = await page(request_({ client_id: 'spa', redirect_uri: 'https://evil.example/cb' }));
    expect(known.text).not.toContain('"spa"');
  });
});
