/**
 * The store contract kit (`tokengate/testing`) run against our own in-memory stores, through
 * the package's public entry points, as an adapter author would run it.
 */
import { memoryClientStore, memoryTokenStore, memoryUserStore } from '../../src/stores/memory';
import { describeClientStore, describeTokenStore, describeUserStore } from '../../src/testing';

const tokens = memoryTokenStore();
describeTokenStore('memoryTokenStore', { create: () => tokens, dump: () => tokens.dump() });

let clients: ReturnType<typeof memoryClientStore> | undefined;
describeClientStore('memoryClientStore', {
  create: (fixtures) => (clients = memoryClientStore(fixtures)),
  dump: () => clients?.dump(),
});

let users: ReturnType<typeof memoryUserStore> | undefined;
describeUserStore('memoryUserStore', {
  create: (fixtures) => (users = memoryUserStore(fixtures)),
  dump: () => users?.dump(),
});
