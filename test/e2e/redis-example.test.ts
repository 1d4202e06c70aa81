/**
 * examples/redis: the one command starts Redis and two instances from the built package
 * (`require('tokengate/redis')` as an app would), the printed flow works across instances,
 * and SIGTERM stops everything, Redis included.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describeWithRedis } from '../support/redis-server';
import { startScript } from '../support/script-process';

const root = join(__dirname, '..', '..');

function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from('web-app:web-secret').toString('base64')}`,
    },
    body: new URLSearchParams(fields).toString(),
  };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describeWithRedis('examples/redis (one command: Redis + two instances)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/cjs/redis.js')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  });

  test('prints both instances; a token from A works on B, refreshes on B, is refused by B once revoked on A; SIGTERM stops all', async () => {
    const example = startScript('examples/redis/start.js', { PORT_A: '0', PORT_B: '0' });
    try {
      await example.waitFor(/Ctrl-C stops/);
      const out = example.stdout();
      const a = /Instance A: (\S+)/.exec(out)?.[1] as string;
      const b = /Instance B: (\S+)/.exec(out)?.[1] as string;
      const redisPort = Number(/Redis: +redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);

      const issued = (await (
        await fetch(
          `${a}/oauth/token`,
          form({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read' }),
        )
      ).json()) as Record<string, string>;
      const bearer = { headers: { Authorization: `Bearer ${issued.access_token}` } };
      expect(await (await fetch(`${b}/api/me`, bearer)).json()).toMatchObject({ instance: 'B', sub: 'user-alice' });
      expect(
        (
          await fetch(
            `${b}/oauth/token`,
            form({ grant_type: 'refresh_token', refresh_token: issued.refresh_token as string }),
          )
        ).status,
      ).toBe(200);
      expect((await fetch(`${a}/oauth/revoke`, form({ token: issued.access_token as string }))).status).toBe(200);
      const deadline = Date.now() + 5000;
      while ((await fetch(`${b}/api/me`, bearer)).status !== 401) {
        if (Date.now() > deadline) throw new Error('B still accepts the token revoked on A');
      }

      await example.stop('SIGTERM');
      expect(example.child.exitCode).toBe(0); // it stopped itself, not the SIGKILL fallback
      const gone = Date.now() + 5000;
      while (!(await refused(redisPort))) {
        if (Date.now() > gone) throw new Error('redis-server still listens after the example stopped');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The example's only warning: its demo client uses the password grant (RFC 9700 §2.4).
      const warnings = example
        .stderr()
        .split('\n')
        .filter((line) => line.trim() !== '');
      expect(warnings.every((line) => line.includes('uses the password grant'))).toBe(true);
    } finally {
      await example.stop('SIGKILL');
    }
  }, 40_000);
});
