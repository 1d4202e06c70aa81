// ESLint's entry point; the configuration lives with the tools in tools/dev (see the comment there).
export { default } from './tools/dev/eslint.config.mjs';
