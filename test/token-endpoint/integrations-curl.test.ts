/**
 * The two requests real integrations send, run verbatim with curl against a listening server
 * (a multipart password grant with HTTP Basic; a urlencoded client_credentials grant with the
 * secret in the body), then the protected route with the token they return.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { buildApp, listen } from '../support/spine';

const run = promisify(execFile);

async function curl(command: string, url: string): Promise<string> {
  // The lines exactly as the docs print them, with $URL filled in by the shell.
  const { stdout } = await run('bash', ['-c', command], { env: { ...process.env, URL: url } });
  return stdout;
}

const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasCurl && process.env.CI) throw new Error('curl is required under CI');
const maybe = hasCurl ? describe : describe.skip;
if (!hasCurl) console.warn('\n*** SKIPPING the curl tests: curl is not installed (apt-get install curl) ***\n');

maybe('the curl requests real integrations send', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen(buildApp('express5', { issuer: 'http://localhost:3000' }).app);
  });
  afterAll(() => server.close());

  test('password grant, multipart form, HTTP Basic: curl -u ... -F ...', async () => {
    const out = await curl(
      'curl -s -X POST $URL/oauth/token -u web-app:web-secret -F username=alice@example.com -F password=wonderland -F grant_type=password',
      server.url,
    );
    const body = JSON.parse(out);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
    expect(body.refresh_token).toEqual(expect.any(String));
    const me = JSON.parse(
      await curl(`curl -s $URL/api/me -H "Authorization: Bearer ${body.access_token}"`, server.url),
    );
    expect(me.sub).toBe('user-alice');
  });

  test('client_credentials, form-urlencoded, client_secret_post: curl --data-urlencode ...', async () => {
    const out = await curl(
      "curl -s --request POST --url $URL/oauth/token --header 'Content-Type: application/x-www-form-urlencoded' --data-urlencode grant_type=client_credentials --data-urlencode client_id=web-app --data-urlencode client_secret=web-secret --data-urlencode 'scope=read write'",
      server.url,
    );
    const body = JSON.parse(out);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
    expect(body.refresh_token).toBeUndefined();
    const me = JSON.parse(
      await curl(`curl -s $URL/api/me -H "Authorization: Bearer ${body.access_token}"`, server.url),
    );
    expect(me).toMatchObject({ sub: 'web-app', clientId: 'web-app', scope: ['read', 'write'] });
  });
});
