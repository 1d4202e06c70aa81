#!/usr/bin/env node
// Runs madge (https://github.com/pahen/madge) on the TypeScript sources, cycles through
// type-only imports included. madge parses .ts files through @typescript-eslint, which needs
// TypeScript's JavaScript API; the compiler this project builds with (typescript@7, native)
// has none, so madge's parser is given typescript@5 (the `typescript5` devDependency) instead.
// Usage: node scripts/madge.cjs --circular --extensions ts src   (any madge arguments)
'use strict';
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (
    (request === 'typescript' || request.startsWith('typescript/')) &&
    parent?.filename?.includes(`${require('node:path').sep}node_modules${require('node:path').sep}`)
  ) {
    request = request.replace(/^typescript/, 'typescript5');
  }
  return resolve.call(this, request, parent, ...rest);
};
require('madge/bin/cli.js');
