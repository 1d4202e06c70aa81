/**
 * `private_key_jwt` and `client_secret_jwt` (RFC 7523 §2.2, RFC 7521 §4.2) as one method of the
 * client-authentication pipeline: it recognises `client_assertion_type`, reads the client id
 * from the assertion's `sub`, and checks the assertion against the registered client (its keys
 * or its recoverable secret). The pipeline applies the limits, so a failed assertion counts
 * like a wrong secret.
 * @packageDocumentation
 */
import { InvalidClient, InvalidRequest } from '../core/errors';
import {
  assertionClientId,
  decodeAssertion,
  JWT_BEARER_ASSERTION,
  verifyClientAssertion,
  type AssertionSettings,
} from './assertion';
import type { ClientAuthMethod } from './methods';

/** The client-assertion method over these settings (issuer, token endpoint, replay store, keys). */
export function clientAssertionMethod(settings: AssertionSettings): ClientAuthMethod {
  return {
    name: 'private_key_jwt',
    detect: (_req, params) => params.client_assertion !== undefined || params.client_assertion_type !== undefined,
    read(req, params, challenge) {
      // RFC 7521 §4.2: one method per request.
      if (/^basic /i.test(req.headers.authorization ?? '') || params.client_secret !== undefined) {
        throw new InvalidRequest(
          'Use one client authentication method: a client_assertion, HTTP Basic or client_secret, not several.',
        );
      }
      const { client_assertion: assertion, client_assertion_type: type } = params;
      if (assertion === undefined || assertion === '' || type === undefined)
        throw new InvalidRequest('Send client_assertion_type and client_assertion together (RFC 7521 §4.2).');
      if (type !== JWT_BEARER_ASSERTION)
        throw new InvalidClient(
          `The client_assertion_type must be ${JWT_BEARER_ASSERTION} (RFC 7523 §2.2).`,
          challenge,
        );
      const jws = decodeAssertion(assertion);
      const clientId = assertionClientId(jws);
      if (params.client_id !== undefined && params.client_id !== clientId)
        throw new InvalidClient('The client_id does not match the sub of the client_assertion.', challenge);
      const alg = jws.header.alg;
      const method = typeof alg === 'string' && alg.startsWith('HS') ? 'client_secret_jwt' : 'private_key_jwt';
      return {
        method,
        clientId,
        proof: true,
        async verify(client) {
          if (client === undefined) return false;
          return (await verifyClientAssertion(jws, client, settings)) === method;
        },
      };
    },
  };
}
