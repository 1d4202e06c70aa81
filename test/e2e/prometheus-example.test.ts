/**
 * examples/prometheus (issue #17): started as a user would (`node examples/prometheus/server.js`,
 * the built package), it issues a token and refuses a wrong secret, and /metrics then shows
 * both as prom-client counters, with bounded labels and no token or secret in the page.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startScript, type ScriptProcess } from '../support/script-process';

const root = join(__dirname, '..', '..');

function form(fields: Record<string, string>, secret = 'web-secret'): RequestInit {
  return {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`web-app:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams(fields).toString(),
  };
}

describe('examples/prometheus', () => {
  let example: ScriptProcess | undefined;
  let url = '';

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cjs/index.js')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
    example = startScript('examples/prometheus/server.js', { PORT: '0' });
    url = (await example.waitFor(/listening on (http:\/\/localhost:\d+)/))[1] as string;
  });
  afterAll(() => example?.stop());

  test('after a token is issued and a wrong secret refused, /metrics shows both counters; no token or secret in the page', async () => {
    const ok = await fetch(`${url}/oauth/token`, form({ grant_type: 'client_credentials' }));
    expect(ok.status).toBe(200);
    const { access_token: token } = (await ok.json()) as { access_token: string };
    expect((await fetch(`${url}/api/me`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}/oauth/token`, form({ grant_type: 'client_credentials' }, 'wrong-secret'))).status).toBe(
      401,
    );

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const page = await metrics.text();
    expect(page).toContain('# TYPE tokengate_tokens_issued_total counter');
    expect(page).toContain('tokengate_tokens_issued_total{grant_type="client_credentials"} 1');
    expect(page).toContain(
      'tokengate_client_authentication_failures_total{endpoint="token",method="client_secret_basic",reason="invalid_credentials"} 1',
    );
    expect(page).toContain('# TYPE tokengate_token_reuse_detected_total counter'); // labelled: no series until it happens
    for (const secret of [token, 'web-secret', 'wrong-secret']) expect(page).not.toContain(secret);
  });
});
