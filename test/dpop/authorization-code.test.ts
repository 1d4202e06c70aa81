/**
 * `dpop_jkt` at the authorization endpoint binds the code to a key (RFC 9449 §10).
 */
import request from 'supertest';
import {
  authorizeUrl,
  buildCodeApp,
  exchange,
  HOOK_HEADERS,
  ISSUER,
  locationParams,
  obtainCode,
  SPA_REDIRECT,
  spaRequest,
  TOKEN,
} from '../support/authorization-code';
import { dpopKey, proof } from '../support/dpop';
import { decodeJwt, FRAMEWORKS } from '../support/spine';

const HTU = `${ISSUER}${TOKEN}`;

describe.each(FRAMEWORKS)('dpop_jkt under %s', (framework) => {
  const { app } = buildCodeApp(framework);
  const key = dpopKey();

  function redeem(code: string, verifier: string, dpop?: string) {
    const req = exchange(app, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'spa',
      redirect_uri: SPA_REDIRECT,
    });
    return dpop === undefined ? req : req.set('DPoP', dpop);
  }

  test('a code requested with dpop_jkt is redeemed with a proof from that key, and the tokens are bound (RFC 9449 §10)', async () => {
    const { params, verifier } = spaRequest({ dpop_jkt: key.jkt });
    const code = await obtainCode(app, params);
    const res = await redeem(code, verifier, proof(key, { htu: HTU }));
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    expect(decodeJwt(res.body.access_token).payload.cnf).toEqual({ jkt: key.jkt });
  });

  test('a code requested with dpop_jkt and redeemed with another key or no proof is invalid_grant, and not burnt (RFC 9449 §10)', async () => {
    const { params, verifier } = spaRequest({ dpop_jkt: key.jkt });
    const code = await obtainCode(app, params);
    const other = await redeem(code, verifier, proof(dpopKey(), { htu: HTU }));
    expect({ status: other.status, error: other.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    const none = await redeem(code, verifier);
    expect({ status: none.status, error: none.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    expect((await redeem(code, verifier, proof(key, { htu: HTU }))).status).toBe(200);
  });

  test('a malformed dpop_jkt is invalid_request, sent back to the client (RFC 9449 §10, RFC 6749 §4.1.2.1)', async () => {
    const { params } = spaRequest({ dpop_jkt: 'not-a-thumbprint' });
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    const query = locationParams(res.headers.location);
    expect(query.get('error')).toBe('invalid_request');
    expect(query.get('error_description')).toMatch(/dpop_jkt/);
  });
});
