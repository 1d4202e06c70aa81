/**
 * The device authorization endpoint (RFC 8628 §3.1–3.2): a client (public ones with their
 * `client_id`) asks for a device code and a user code, for scopes and, with resource
 * indicators (RFC 8707), for the resources the tokens will be meant for.
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { hashToken, randomToken } from '../core/crypto';
import { UnauthorizedClient } from '../core/errors';
import type { Handler } from '../core/http';
import { parseScope } from '../core/scopes';
import { clientEndpoint } from '../endpoints/client-endpoint';
import type { ServerContext } from '../endpoints/context';
import { addressKey, defaultRemoteAddress } from '../limits/remote-address';
import { grantScopesFor, resourcesOf } from '../resources/indicators';
import { DeviceAttempts, deviceLimiterFactory } from './attempts';
import type { ResolvedDeviceOptions } from './options';
import type { DeviceStore } from './types';
import { newUserCode, normalizeUserCode } from './user-code';

/** The grant type of the device flow's token request (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The device authorization endpoint handler: client authentication through the one pipeline (`clientEndpoint`). */
export function deviceAuthorizationEndpoint(
  ctx: ServerContext,
  devices: DeviceStore,
  options: ResolvedDeviceOptions,
): Handler {
  // Every request holds a store entry until it expires: bounded per address, so one address
  // cannot fill the store and turn every other device away.
  const { bruteForce, logger } = ctx.options;
  const requests = new DeviceAttempts(
    deviceLimiterFactory(options.createLimiter, bruteForce?.createLimiter),
    {
      name: 'tokengate:device-requests',
      perAddress: options.requestsPerAddress,
      window: options.lifetime,
      refusal: 'Too many device authorization requests from this address',
    },
    logger,
  );
  const remote = bruteForce?.remoteAddress ?? defaultRemoteAddress;
  return clientEndpoint(ctx, {
    name: 'device authorization',
    validate(params) {
      parseScope(params.scope);
    },
    async handle({ req, params, auth: { client } }) {
      if (!(client.grants as readonly string[]).includes(DEVICE_CODE_GRANT))
        throw new UnauthorizedClient('This client may not use the device authorization grant.');
      // RFC 8628 §3.1 allows the parameters of RFC 8707: every resource known and allowed for
      // this client (else invalid_target), and the scopes those resources define.
      const resources = resourcesOf(ctx.options.resources, client, params);
      const scope = grantScopesFor(ctx.options.resources, client, parseScope(params.scope), resources);
      // Counted whatever happens next: the request is kept whether or not it is used.
      await requests.begin(addressKey(remote(req)));
      const deviceCode = randomToken();
      const expiresAt = nowSeconds() + options.lifetime;
      // A user code already in use (1 in 2^34 per pending request) is drawn again.
      for (let attempt = 0; ; attempt++) {
        const userCode = newUserCode();
        try {
          await devices.create({
            id: hashToken(deviceCode),
            userCode: hashToken(normalizeUserCode(userCode) as string),
            clientId: client.id,
            scope,
            ...(resources.length > 0 && { resources }),
            expiresAt,
            interval: options.interval,
            status: 'pending',
          });
        } catch (err) {
          if (attempt < 2 && !(err instanceof Error && 'error' in err)) continue;
          throw err;
        }
        const complete = new URL(options.verificationUri);
        complete.searchParams.set('user_code', userCode);
        return {
          device_code: deviceCode,
          user_code: userCode,
          verification_uri: options.verificationUri,
          verification_uri_complete: complete.href,
          expires_in: options.lifetime,
          interval: options.interval,
        };
      }
    },
  });
}
