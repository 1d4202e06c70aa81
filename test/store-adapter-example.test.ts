/**
 * The README's "Writing a store adapter" example (examples/store-adapter/stores.ts) passes the
 * whole contract kit, and the README shows it exactly as it is in the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeClientStore, describeTokenStore, describeUserStore } from '../src/testing';
import { myClientStore, myTokenStore, myUserStore, newDb, register } from '../examples/store-adapter/stores';

const db = newDb();
describeTokenStore('myTokenStore (README example)', { create: () => myTokenStore(db), dump: () => db.tokens });
describeClientStore('myClientStore (README example)', {
  create: async (clients) => (await register(db, { clients }), myClientStore(db)),
  dump: () => db.clients,
});
describeUserStore('myUserStore (README example)', {
  create: async (users) => (await register(db, { users }), myUserStore(db)),
  dump: () => db.users,
});

test('the README shows the example adapter exactly as tested, importing from tokengate', () => {
  const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
  const source = readFileSync(join(__dirname, '../examples/store-adapter/stores.ts'), 'utf8').replace(/'\.\.\/\.\.\/src'/g, "'tokengate'");
  expect(readme).toContain(source.trim());
});
