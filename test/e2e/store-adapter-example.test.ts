/**
 * The "Writing a store adapter" example of docs/store-adapters.md (examples/store-adapter/stores.ts) passes the
 * whole contract kit, and the page shows it exactly as it is in the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { myClientStore, myTokenStore, myUserStore, newDb, register } from '../../examples/store-adapter/stores';
import { describeClientStore, describeTokenStore, describeUserStore } from '../../src/testing';

const db = newDb();
describeTokenStore('myTokenStore (documented example)', { create: () => myTokenStore(db), dump: () => db.tokens });
describeClientStore('myClientStore (documented example)', {
  create: async (clients) => (await register(db, { clients }), myClientStore(db)),
  dump: () => db.clients,
});
describeUserStore('myUserStore (documented example)', {
  create: async (users) => (await register(db, { users }), myUserStore(db)),
  dump: () => db.users,
});

test('docs/store-adapters.md shows the example adapter exactly as tested, importing from tokengate', () => {
  const page = readFileSync(join(__dirname, '../../docs/store-adapters.md'), 'utf8');
  const source = readFileSync(join(__dirname, '../../examples/store-adapter/stores.ts'), 'utf8').replace(
    /'\.\.\/\.\.\/src'/g,
    "'tokengate'",
  );
  expect(page).toContain(source.trim());
});
