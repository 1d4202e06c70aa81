/** Jest: TypeScript through SWC (no type-check here; `npm run lint` does that), two workers for two cores. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  maxWorkers: 2,
  testTimeout: 30000,
  // Every file: no secret, token or stack trace in any response or log (test/support/hygiene.ts),
  // and no scrypt left running when it ends (test/support/settle-setup.ts; neither may import src/).
  setupFilesAfterEnv: ['<rootDir>/test/support/hygiene-setup.ts', '<rootDir>/test/support/settle-setup.ts'],
};
