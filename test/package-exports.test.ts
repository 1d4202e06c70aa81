/**
 * The published shape: `require('tokengate')` and `import 'tokengate'` resolve through the
 * package's `exports` to one module instance, with types for both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const pkg = require('../package.json') as { exports: Record<string, unknown> };

describe('package exports (dual ESM/CJS)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/cjs/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  });

  test.each(Object.keys(pkg.exports).filter((k) => k !== './package.json'))('%s has CJS, ESM and type files', (entry) => {
    const target = pkg.exports[entry] as { import: { types: string; default: string }; require: { types: string; default: string } };
    for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
      expect(existsSync(join(root, file))).toBe(true);
    }
  });

  test('require and import give the same functions (one module instance)', () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as esm from 'tokengate';
      const cjs = createRequire(import.meta.url)('tokengate');
      if (typeof esm.oauthServer !== 'function') throw new Error('no ESM oauthServer');
      if (esm.oauthServer !== cjs.oauthServer) throw new Error('two module instances');
      if (esm.memoryStores !== cjs.memoryStores) throw new Error('two module instances');
      console.log('ok');
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('ok');
  });
});
