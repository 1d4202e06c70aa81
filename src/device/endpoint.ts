/**
 * The device authorization endpoint (RFC 8628 §3.1–3.2): a client (public ones with their
 * `client_id`) asks for a device code and a user code.
 * @packageDocumentation
 */
import { authenticateClient } from '../clients/authenticate';
import type { ServerContext } from '../context';
import { InvalidRequest, UnauthorizedClient } from '../errors';
import type { Handler } from '../endpoints/token';
import { readParams } from '../http/body';
import { sendError, sendJson } from '../http/respond';
import { guardRequest } from '../limits/guard-request';
import { requestSecrets, withoutSecrets } from '../redact';
import { grantScopes, parseScope } from '../scopes';
import { nowSeconds } from '../clock';
import { hashToken, randomToken } from '../tokens/crypto';
import type { ResolvedDeviceOptions } from './options';
import type { DeviceStore } from './types';
import { newUserCode, normalizeUserCode } from './user-code';
import { DeviceAttempts } from './attempts';
import { addressKey, defaultRemoteAddress } from '../limits/remote-address';

/** The grant type of the device flow's token request (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The device authorization endpoint handler. */
export function deviceAuthorizationEndpoint(ctx: ServerContext, devices: DeviceStore, options: ResolvedDeviceOptions): Handler {
  // Every request holds a store entry until it expires: bounded per address, so one address
  // cannot fill the store and turn every other device away.
  const requests = new DeviceAttempts({ perAddress: options.requestsPerAddress, overall: Infinity, window: options.lifetime }, 'Too many device authorization requests from this address');
  const remote = ctx.options.bruteForce?.remoteAddress ?? defaultRemoteAddress;
  return async function deviceAuthorization(req, res) {
    let params;
    try {
      if (req.method !== 'POST') throw new InvalidRequest('The device authorization endpoint accepts only POST.', 405, { Allow: 'POST' });
      params = await readParams(req, ctx.options.maxBodyBytes, ctx.options.bodyTimeoutMs);
      // Client authentication exactly as at the token endpoint (§3.1), under the same limits.
      const guard = await guardRequest(ctx, req, res);
      const { client } = await authenticateClient(req, params, ctx.clients, ctx.basicChallenge, guard);
      if (!(client.grants as readonly string[]).includes(DEVICE_CODE_GRANT)) throw new UnauthorizedClient('This client may not use the device authorization grant.');
      const scope = grantScopes(client, parseScope(params.scope));
      const address = addressKey(remote(req));
      requests.check(address);
      requests.count(address);
      const deviceCode = randomToken();
      const expiresAt = nowSeconds() + options.lifetime;
      // A user code already in use (1 in 2^34 per pending request) is drawn again.
      for (let attempt = 0; ; attempt++) {
        const userCode = newUserCode();
        try {
          await devices.create({ id: hashToken(deviceCode), userCode: hashToken(normalizeUserCode(userCode) as string), clientId: client.id, scope, expiresAt, interval: options.interval, status: 'pending' });
        } catch (err) {
          if (attempt < 2 && !(err instanceof Error && 'error' in err)) continue;
          throw err;
        }
        const complete = new URL(options.verificationUri);
        complete.searchParams.set('user_code', userCode);
        sendJson(res, 200, {
          device_code: deviceCode,
          user_code: userCode,
          verification_uri: options.verificationUri,
          verification_uri_complete: complete.href,
          expires_in: options.lifetime,
          interval: options.interval,
        });
        return;
      }
    } catch (err) {
      sendError(res, withoutSecrets(err, requestSecrets(req, params)), ctx.options.logger, 'device authorization endpoint');
    }
  };
}
