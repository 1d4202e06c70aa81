/**
 * `node bench/miss-ab.js` — a paired A/B of the cache-miss path inside one process: the floor's raw
 * node:crypto ES256 verify against `requireToken` with the cache off and on, on fake requests,
 * alternating batches of 100, CPU time per call, medians over the pairs. Less exposed to a busy
 * machine than the HTTP bench (both sides of each pair run seconds apart on the same core); it
 * leaves out what both sides of the HTTP comparison share (Express, HTTP, the response).
 * @packageDocumentation
 */
'use strict';
// (and on), on fake req/res, alternating batches; median of per-pair differences.
const nodeCrypto = require('node:crypto');
const { oauthServer, memoryStores } = require('tokengate');
const { privateKey } = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKey = nodeCrypto.createPublicKey(privateKey);
const mk = (cache) => {
  const stores = memoryStores({
    clients: [{ id: 'c', secret: 's'.repeat(20), grants: ['client_credentials'], scopes: ['read'] }],
  });
  return {
    stores,
    oauth: oauthServer(stores, {
      issuer: 'http://127.0.0.1',
      keys: [{ alg: 'ES256', privateKey }],
      cache,
      logger: { warn() {}, error() {} },
    }),
  };
};
(async () => {
  const off = mk({ max: 0 });
  const on = mk({ max: 1000 });
  const client = await off.stores.clients.findClient('c');
  const toks = [];
  for (let i = 0; i < 4000; i++)
    toks.push(
      (
        await off.oauth.context.issuer.issue({
          client,
          grantType: 'client_credentials',
          sub: 'c',
          scope: ['read'],
          refreshToken: false,
        })
      ).access_token,
    );
  const res = {
    setHeader() {},
    end() {
      throw new Error('refused');
    },
  };
  const guardOff = off.oauth.requireToken({ scope: 'read' });
  const guardOn = on.oauth.requireToken({ scope: 'read' });
  let k = 0;
  const viaGuard = (g) =>
    new Promise((resolve) =>
      g({ headers: { authorization: `Bearer ${toks[k++ % 4000]}` }, method: 'GET', url: '/' }, res, resolve),
    );
  const raw = () => {
    const t = toks[k++ % 4000];
    const d = t.lastIndexOf('.');
    if (
      !nodeCrypto.verify(
        'sha256',
        Buffer.from(t.slice(0, d)),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(t.slice(d + 1), 'base64url'),
      )
    )
      throw new Error('bad');
    return Promise.resolve();
  };
  const B = 100;
  const batch = async (f) => {
    const c = process.cpuUsage();
    for (let i = 0; i < B; i++) await f();
    const u = process.cpuUsage(c);
    return (u.user + u.system) / B;
  };
  const d = { off: [], on: [], raw: [] };
  for (let r = 0; r < 120; r++) {
    const a = await batch(raw);
    const b = await batch(() => viaGuard(guardOff));
    const c = await batch(() => viaGuard(guardOn));
    if (r >= 10) {
      d.raw.push(a);
      d.off.push(b - a);
      d.on.push(c - a);
    }
  }
  const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  console.log(
    `raw verify ${med(d.raw).toFixed(1)} µs CPU; guard cache off: +${med(d.off).toFixed(1)} µs; cache on (miss): +${med(d.on).toFixed(1)} µs (medians of ${d.raw.length} paired batches of ${B})`,
  );
})();
