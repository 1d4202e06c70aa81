/**
 * `tokengate/testing`: the store contracts as test suites. An adapter author calls these from
 * their own test file with a factory for their store; every rule the library relies on
 * becomes one test named `Method — rule`, and a failure says which method broke which rule.
 *
 * Works under Jest, Vitest and Mocha (global `describe`/`it`) and under `node:test` (pass
 * `describe` and `it` in the harness). Importing this module touches no test globals.
 *
 * @example
 * ```ts
 * import { describeClientStore, describeTokenStore, describeUserStore } from 'tokengate/testing';
 * import { hashClientSecret, hashPassword } from 'tokengate';
 *
 * describeTokenStore('my token store', { create: () => tokens, dump: () => db.rows('tokens') });
 * describeClientStore('my client store', {
 *   create: async (fixtures) => {
 *     for (const { secret, ...c } of fixtures) await db.insert('clients', { ...c, secretHash: secret && hashClientSecret(secret) });
 *     return clients;
 *   },
 *   dump: () => db.rows('clients'),
 * });
 * ```
 * @module tokengate/testing
 * @packageDocumentation
 */
export { describeTokenStore } from './testing/token-store';
export { describeReplayStore, type ReplayStoreHarness } from './testing/replay-store';
export type { TokenStoreHarness } from './testing/token-fixtures';
export { describeClientStore, type ClientStoreHarness, type ClientFixture } from './testing/client-store';
export { describeUserStore, type UserStoreHarness, type UserFixture } from './testing/user-store';
export { describeDeviceStore, type DeviceStoreHarness } from './testing/device-store';
export { StoreContractError, type KitTestApi, type DescribeFn, type ItFn } from './testing/harness';
