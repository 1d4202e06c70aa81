/**
 * `tokengate/testing` works outside Jest: the built package's kit, run by `node --test` with
 * node:test's own describe/it, registers and passes every rule. (Needs `npm run build`, which
 * `npm test` runs first.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('the contract kit runs under node:test from the built package (no Jest globals needed)', () => {
  expect(existsSync(join(root, 'dist/cjs/testing.js'))).toBe(true); // run `npm run build` first
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-reporter=tap', join(__dirname, '../fixtures/store-kit-node-test.mjs')],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  const summary = (name: string): number =>
    Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(result.stdout)?.[1] ?? NaN);
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  expect(summary('fail')).toBe(0);
  expect(summary('skipped')).toBe(0);
  expect(summary('pass')).toBeGreaterThanOrEqual(25);
});
