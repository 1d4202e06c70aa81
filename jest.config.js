/** Jest: TypeScript through SWC (no type-check here; `npm run lint` does that), two workers for two cores. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  maxWorkers: 2,
  testTimeout: 30000,
};
