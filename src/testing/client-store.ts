/**
 * `describeClientStore`: the {@link ClientStore} contract as a test suite.
 * @packageDocumentation
 */
import { hashClientSecret, hashToken, randomToken, verifyClientSecret } from '../core/crypto';
import type { MemoryClientInput } from '../stores/memory/clients';
import type { Client, ClientStore } from '../stores/types';
import { deletionKillsTokens } from './client-deletion';
import {
  carelessForms,
  copy,
  dumpStrings,
  findLeak,
  marker,
  once,
  rule,
  show,
  testApi,
  type ItFn,
  type KitTestApi,
} from './harness';

/** A client as the kit hands it to {@link ClientStoreHarness.create}: a {@link Client} with its plain `secret`. */
export type ClientFixture = MemoryClientInput;

/**
 * How {@link describeClientStore} reaches the store under test.
 *
 * @example
 * ```ts
 * describeClientStore('pgClientStore', {
 *   create: async (clients) => { for (const c of clients) await registerClient(pool, c); return pgClientStore(pool); },
 *   dump: async () => (await pool.query('SELECT * FROM clients')).rows,
 * });
 * ```
 */
export interface ClientStoreHarness extends KitTestApi {
  /**
   * The store under test, holding (at least) these clients. Called once, by the first test.
   * Each secret arrives in plain text: store it the way your app registers clients, hashed
   * with `hashClientSecret`. Ids carry a random suffix, so a shared database is fine.
   */
  create(clients: readonly ClientFixture[]): ClientStore | Promise<ClientStore>;
  /** Everything the store wrote, as stored; the kit checks no plain secret is in it. */
  dump(): unknown;
}

const OPTIONAL: readonly (keyof Client)[] = [
  'secretHash',
  'defaultScopes',
  'redirectUris',
  'accessTokenLifetime',
  'refreshTokenLifetime',
];

function fixtures(): {
  confidential: ClientFixture;
  publicClient: ClientFixture;
  minimal: ClientFixture;
  unicode: ClientFixture;
  sqlish: ClientFixture;
} {
  const m = marker('kit');
  return {
    confidential: {
      id: `${m}-confidential`,
      secret: `${randomToken()}:%+ é`,
      grants: ['authorization_code', 'client_credentials', 'password', 'refresh_token'],
      scopes: ['read', 'write', 'profile:email'],
      defaultScopes: ['read'],
      redirectUris: ['https://client.example/cb', 'http://127.0.0.1:8080/cb?x=1'],
      accessTokenLifetime: 900,
      refreshTokenLifetime: 86_400,
    },
    publicClient: {
      id: `${m}-public`,
      grants: ['authorization_code', 'refresh_token'],
      scopes: ['read'],
      redirectUris: ['https://spa.example/cb'],
    },
    minimal: { id: `${m}-minimal`, secret: randomToken(), grants: ['client_credentials'], scopes: [] },
    unicode: { id: `${m}-ünïcødé-🙂`, secret: randomToken(), grants: ['client_credentials'], scopes: ['read'] },
    sqlish: {
      id: `${m}-'; DROP TABLE clients; --`,
      secret: randomToken(),
      grants: ['client_credentials'],
      scopes: ['read'],
    },
  };
}

/**
 * Register the {@link ClientStore} contract as tests: every field round-trips; the stored
 * secret hash verifies the secret and nothing else; public clients have no `secretHash`;
 * absent fields are `undefined`, not `null`; ids match exactly (case and spaces); unknown and
 * odd ids give `undefined` without throwing; no plain secret is stored.
 *
 * @param name - the `describe` block's title
 * @param harness - how to create the store with the kit's clients, and read what it stored
 *
 * @example
 * ```ts
 * import { describeClientStore } from 'tokengate/testing';
 * describeClientStore('myClientStore', { create: (clients) => myClientStore(clients), dump: () => db.rows('clients') });
 * ```
 */
export function describeClientStore(name: string, harness: ClientStoreHarness): void {
  const { describe, it } = testApi(harness, 'describeClientStore');
  if (typeof harness?.create !== 'function' || typeof harness.dump !== 'function') {
    throw new Error('describeClientStore(name, harness): harness needs create(clients) and dump().');
  }
  const f = fixtures();
  const all = Object.values(f);
  const store = once<ClientStore>(() => harness.create(all.map((c) => copy(c))));

  describe(`${name}: ClientStore contract (tokengate/testing)`, () => {
    it('ClientStore.findClient — every field round-trips and secretHash verifies the secret, and only it', async () => {
      const s = await store();
      const r = rule('ClientStore.findClient', 'clients round-trip');
      for (const fixture of all) {
        const found = await s.findClient(fixture.id);
        if (!found) throw r.fail(`findClient(${show(fixture.id)}) gave undefined for a client given to create()`);
        for (const [key, value] of Object.entries(fixture)) {
          if (key === 'secret') continue;
          r.equal(found[key as keyof Client], value, `${key} of ${show(fixture.id)}`);
        }
        if (fixture.secret === undefined) continue;
        const h = rule('ClientStore.findClient', 'secretHash comes from hashClientSecret');
        h.check(
          typeof found.secretHash === 'string' && verifyClientSecret(fixture.secret, found.secretHash),
          `secretHash of ${show(fixture.id)} does not verify its secret; store hashClientSecret(secret)`,
        );
        h.check(
          !verifyClientSecret(fixture.secret + 'x', found.secretHash) &&
            !verifyClientSecret(fixture.secret.toUpperCase(), found.secretHash),
          `secretHash of ${show(fixture.id)} verifies a wrong secret`,
        );
      }
    });

    it('ClientStore.findClient — a public client has no secretHash; fields left out come back undefined, not null', async () => {
      const s = await store();
      const r = rule('ClientStore.findClient', 'absent fields are undefined');
      const pub = await s.findClient(f.publicClient.id);
      r.check(
        pub && pub.secretHash === undefined,
        `a public client's secretHash must be undefined (the library tests "=== undefined"), got ${show(pub?.secretHash)}`,
      );
      const min = await s.findClient(f.minimal.id);
      if (!min) throw r.fail('the minimal client was not found');
      for (const key of OPTIONAL) {
        if (key === 'secretHash') continue;
        r.check(min[key] === undefined, `${key} was not given but came back as ${show(min[key])}`);
      }
      r.check(
        Array.isArray(min.scopes) && min.scopes.length === 0 && Array.isArray(min.grants),
        `grants and scopes must be arrays (an empty scope list as []), got ${show([min.grants, min.scopes])}`,
      );
    });

    it('ClientStore.findClient — ids match exactly: other case or extra spaces find nothing', async () => {
      const s = await store();
      const r = rule('ClientStore.findClient', 'ids match exactly');
      const id = f.confidential.id;
      for (const variant of [id.toUpperCase(), ` ${id}`, `${id} `, id.slice(0, -1)]) {
        const found = await s.findClient(variant);
        r.check(
          found === undefined,
          `findClient(${show(variant)}) found ${show(found?.id)}; client ids compare as exact strings (check the column's collation)`,
        );
      }
    });

    it('ClientStore.findClient — unknown or odd ids resolve to undefined, never throw', async () => {
      const s = await store();
      const r = rule('ClientStore.findClient', 'unknown ids give undefined');
      for (const id of ['', marker('nobody'), 'x'.repeat(4096), "' OR '1'='1", 'nul\u0000byte', '%', '_', '\uD800']) {
        const found = await r.noThrow(() => s.findClient(id), `findClient(${show(id)})`);
        r.check(found === undefined, `findClient(${show(id)}) gave ${show(found)}`);
      }
    });

    it('ClientStore storage — no client secret is stored in plain text', async () => {
      await store();
      const r = rule('ClientStore.findClient', 'stores hashes, never secrets');
      const strings = dumpStrings(await harness.dump());
      r.check(
        strings.some((x) => x.includes(f.confidential.id)),
        `dump() does not contain the client id ${show(f.confidential.id)}; it must return what the store wrote`,
      );
      for (const fixture of all) {
        if (fixture.secret === undefined) continue;
        r.check(
          findLeak(strings, carelessForms(fixture.secret, false)) === undefined,
          `the plain secret of ${show(fixture.id)} (or its hex/base64) is in the stored data; store hashClientSecret(secret)`,
        );
      }
    });

    registrationRules(it, store, harness);
  });
}

/** A client as the registration endpoint hands it to `registerClient`: hashes only. */
function registered(): { client: Client; secret: string; accessToken: string } {
  const secret = randomToken();
  const accessToken = randomToken();
  const id = `tgc_${marker('kit-reg')}`;
  const client: Client = {
    id,
    secretHash: hashClientSecret(secret),
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['tools:read', 'tools:call'],
    redirectUris: ['http://127.0.0.1/callback', 'com.example.app:/cb'],
    resources: ['https://mcp.example.com/mcp'],
    registration: {
      metadata: {
        redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'tools:read tools:call',
        client_name: 'Kit agent ünïcødé',
        logo_uri: 'https://agent.example/logo.png',
      },
      accessTokenHash: hashToken(accessToken),
      issuedAt: 1_700_000_000,
    },
  };
  return { client, secret, accessToken };
}

type Writable = Required<Pick<ClientStore, 'registerClient' | 'updateClient' | 'deleteClient'>> & ClientStore;

/**
 * The optional write methods of dynamic registration (RFC 7591/7592). A store without them
 * (registration off) passes these rules by having none of them; one with some but not all
 * fails, since the server then cannot turn registration on.
 */
function registrationRules(it: ItFn, store: () => Promise<ClientStore>, harness: ClientStoreHarness): void {
  async function writable(): Promise<Writable | undefined> {
    const s = await store();
    const present = (['registerClient', 'updateClient', 'deleteClient'] as const).filter(
      (m) => typeof s[m] === 'function',
    );
    const r = rule('ClientStore.registerClient', 'all three write methods or none');
    r.check(
      present.length === 0 || present.length === 3,
      `the store has ${present.join(', ')} but not all of registerClient, updateClient, deleteClient; registration needs all three`,
    );
    return present.length === 3 ? (s as Writable) : undefined;
  }

  it('ClientStore.registerClient — a registered client is found by findClient with every field, as a copy', async () => {
    const s = await writable();
    if (!s) return;
    const r = rule('ClientStore.registerClient', 'registered clients round-trip');
    const { client } = registered();
    const original = copy(client);
    await s.registerClient(client);
    (client.scopes as string[]).push('admin');
    r.equal(
      await s.findClient(original.id),
      original,
      'findClient right after registerClient (the caller changed its object afterwards)',
    );
  });

  it('ClientStore.registerClient — refuses an id that exists and keeps the first', async () => {
    const s = await writable();
    if (!s) return;
    const r = rule('ClientStore.registerClient', 'never overwrites');
    const { client } = registered();
    await s.registerClient(client);
    const second = { ...client, scopes: ['other'] };
    const refused = await s.registerClient(second).then(
      () => false,
      () => true,
    );
    r.check(refused, 'a second registerClient with the same id resolved; it must reject');
    r.equal((await s.findClient(client.id))?.scopes, client.scopes, 'the first client after the refused second one');
  });

  it('ClientStore.updateClient — replaces the client; an unknown id rejects', async () => {
    const s = await writable();
    if (!s) return;
    const r = rule('ClientStore.updateClient', 'replaces');
    const { client } = registered();
    await s.registerClient(client);
    const changed: Client = {
      ...client,
      redirectUris: ['https://new.example/cb'],
      registration: {
        ...(client.registration as NonNullable<Client['registration']>),
        metadata: { ...(client.registration as NonNullable<Client['registration']>).metadata, client_name: 'Renamed' },
      },
    };
    delete changed.secretHash;
    await s.updateClient(changed);
    r.equal(await s.findClient(client.id), changed, 'findClient after updateClient (a secret removed stays removed)');
    const unknown = await s.updateClient({ ...client, id: `tgc_${marker('nobody')}` }).then(
      () => false,
      () => true,
    );
    r.check(unknown, 'updateClient of an id that was never registered resolved; it must reject');
  });

  it('ClientStore.deleteClient — removes the client: findClient no longer finds it; true once, then false', async () => {
    const s = await writable();
    if (!s) return;
    const r = rule('ClientStore.deleteClient', 'really removes');
    const { client } = registered();
    await s.registerClient(client);
    r.check((await s.deleteClient(client.id)) === true, 'deleteClient of a registered client must resolve true');
    r.check((await s.findClient(client.id)) === undefined, 'findClient still found a deleted client');
    r.check((await s.deleteClient(client.id)) === false, 'a second deleteClient must resolve false');
    const odd = await r.noThrow(() => s.deleteClient('nul\u0000byte'), 'deleteClient of an odd id');
    r.check(odd === false, 'deleteClient of an odd id must resolve false');
  });

  it('ClientStore.deleteClient — through a server: a registered client gets tokens, and once deleted they stop working (RFC 7592 §2.3)', async () => {
    const s = await writable();
    if (!s) return;
    await deletionKillsTokens(s);
  });

  it("ClientStore storage — a registered client's secret and registration access token are never stored in plain text", async () => {
    const s = await writable();
    if (!s) return;
    const r = rule('ClientStore.registerClient', 'stores hashes, never secrets');
    const { client, secret, accessToken } = registered();
    await s.registerClient(client);
    const strings = dumpStrings(await harness.dump());
    r.check(
      strings.some((x) => x.includes(client.id)),
      `dump() does not contain the registered client id ${show(client.id)}; it must return what the store wrote`,
    );
    r.check(
      findLeak(strings, carelessForms(secret, false)) === undefined,
      'the plain client secret of a registered client is in the stored data',
    );
    r.check(
      findLeak(strings, carelessForms(accessToken, false)) === undefined,
      'the plain registration access token is in the stored data',
    );
    const found = await s.findClient(client.id);
    r.check(
      found !== undefined && verifyClientSecret(secret, found.secretHash),
      'the stored secretHash of a registered client does not verify its secret',
    );
  });
}
