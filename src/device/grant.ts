/**
 * The device code grant at the token endpoint (RFC 8628 §3.4–3.5): the device polls until the
 * user decided; approval is redeemed exactly once.
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { hashToken } from '../core/crypto';
import { InvalidGrant, InvalidRequest, OAuthError } from '../core/errors';
import { dpopBinding } from '../dpop/binding';
import type { Grant } from '../grants/types';
import { narrowResources, resourcesOf, scopesWithin } from '../resources/indicators';
import type { GrantType } from '../stores/types';
import { DEVICE_CODE_GRANT } from './endpoint';
import type { DeviceStore } from './types';

const INVALID = 'The device code is invalid, was already used, or was issued to another client.';
const pending = (code: string, text: string): OAuthError => new OAuthError(code, text, 400);

/** `urn:ietf:params:oauth:grant-type:device_code` on `devices`. */
export function deviceCodeGrant(devices: DeviceStore): Grant {
  return {
    type: DEVICE_CODE_GRANT as GrantType,
    async handle(ctx, params, auth) {
      const { client } = auth;
      const deviceCode = params.device_code;
      if (deviceCode === undefined || deviceCode === '')
        throw new InvalidRequest('The "device_code" parameter is required (RFC 8628 §3.4).');
      // Checked before the poll: a malformed or unknown resource neither counts as a poll nor
      // spends an approved code.
      const registry = ctx.options.resources;
      const requested = resourcesOf(registry, client, params);
      const id = hashToken(deviceCode);
      const polled = await devices.poll(id, Date.now());
      if (!polled || polled.record.clientId !== client.id) throw new InvalidGrant(INVALID);
      const { record, slowDown } = polled;
      if (record.expiresAt <= nowSeconds())
        throw pending('expired_token', 'The device code has expired; start over (RFC 8628 §3.5).');
      if (record.status === 'pending') {
        // §3.5: slow_down is a pending answer whose interval grew by 5 s for this device code.
        if (slowDown)
          throw pending(
            'slow_down',
            `Polling too fast: wait at least ${record.interval} seconds between requests (RFC 8628 §3.5).`,
          );
        throw pending('authorization_pending', 'The user has not yet approved or denied the request (RFC 8628 §3.5).');
      }
      // Decided: exactly one poll consumes it, so concurrent polls give one token response.
      // RFC 8707 §2.2: the token may be for fewer of the request's resources, never for others;
      // checked before the code is consumed, so a wrong resource leaves the approval usable.
      const resources = narrowResources(record.resources, requested);
      const decided = await devices.consume(id);
      if (!decided) throw new InvalidGrant(INVALID);
      if (decided.status === 'denied' || decided.userId === undefined)
        throw pending('access_denied', 'The user denied the request (RFC 8628 §3.5).');
      return ctx.issuer.issue({
        client,
        grantType: DEVICE_CODE_GRANT,
        sub: decided.userId,
        userId: decided.userId,
        scope: scopesWithin(registry, decided.scope, resources),
        refreshScope: decided.scope,
        refreshToken: client.grants.includes('refresh_token'),
        // The access token's aud; the refresh token keeps every resource of the request.
        resources,
        refreshResources: decided.resources,
        ...dpopBinding(auth),
      });
    },
  };
}
