/**
 * The JWK Set endpoint (RFC 7517 §5): the public halves of the signing keys, so resource
 * servers in other processes can verify access tokens. Verify-only keys are published too
 * (that is how a new key becomes known before it signs, and an old one stays known until
 * its tokens expire); HS256 secrets never are.
 * @packageDocumentation
 */
import type { JsonWebKey } from 'node:crypto';
import { InvalidRequest } from '../core/errors';
import type { Handler } from '../core/http';
import { sendJson, type ErrorOut } from '../http/respond';
import type { ResolvedKey } from '../tokens/keys';

/** A JWK Set document. */
export interface JwkSet {
  keys: JsonWebKey[];
}

// The public members of each key type (RFC 7518 §6.2.1, §6.3.1). Copying only these means a
// private member (`d`, `p`, `q`, ...) can never reach the document, whatever the key input was.
const PUBLIC_MEMBERS: Record<string, readonly string[]> = { EC: ['kty', 'crv', 'x', 'y'], RSA: ['kty', 'n', 'e'] };

/** The JWK Set of these keys: every asymmetric key, with `kid`, `alg` and `use: 'sig'`. */
export function jwkSet(keys: readonly ResolvedKey[]): JwkSet {
  const published: JsonWebKey[] = [];
  for (const key of keys) {
    const jwk = key.publicJwk;
    const members = jwk === undefined ? undefined : PUBLIC_MEMBERS[jwk.kty as string];
    if (jwk === undefined || members === undefined) continue;
    const out: JsonWebKey = {};
    for (const name of members) out[name] = jwk[name];
    published.push({ ...out, kid: key.kid, alg: key.alg, use: 'sig' });
  }
  return { keys: published };
}

/** The JWKS endpoint handler, serving a document built once at start-up. */
export function jwksEndpoint(keys: readonly ResolvedKey[], fail: ErrorOut): Handler {
  const document = jwkSet(keys);
  return async function jwks(req, res, next) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(
        res,
        next,
        new InvalidRequest('The JWKS endpoint accepts only GET.', 405, { Allow: 'GET, HEAD' }),
        'jwks endpoint',
      );
      return;
    }
    sendJson(res, 200, document);
  };
}
