// Writes thin ESM entry points over the CommonJS build, so `import` and `require` share one
// module instance (no dual-package hazard: one memory store, one key set per process).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const entries = JSON.parse(process.argv[2] ?? '[]');
mkdirSync(join(root, 'dist/esm'), { recursive: true });
for (const entry of entries) {
  const names = Object.keys(require(join(root, 'dist/cjs', `${entry}.js`))).filter(
    (n) => n !== '__esModule' && n !== 'default',
  );
  const js = names.length
    ? `import cjs from '../cjs/${entry}.js';\nexport const { ${names.join(', ')} } = cjs;\n`
    : `import '../cjs/${entry}.js';\n`;
  writeFileSync(join(root, 'dist/esm', `${entry}.mjs`), js);
  writeFileSync(join(root, 'dist/esm', `${entry}.d.mts`), `export * from '../cjs/${entry}.js';\n`);
}
