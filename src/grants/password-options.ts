/**
 * The `passwordGrant` option of `oauthServer` (RFC 9700 §2.4), validated at start-up. Apart
 * from the grant so that the options module does not depend on the grant (and its context).
 * @packageDocumentation
 */
import { checkKnownKeys, configError, isPlainObject } from '../core/config';
import type { Logger } from '../core/logging';

/** Options of the `password` grant (RFC 6749 §4.3). */
export interface PasswordGrantOptions {
  /**
   * Let public clients (no client authentication, `none`) use the password grant. Default
   * false: only confidential clients may, because a public client's requests can be sent by
   * anyone, so the grant would only check the user's password and nothing else (RFC 9700
   * §2.4). Which clients may use the grant at all is still each client's `grants` list.
   */
  allowPublicClients?: boolean;
}

/** {@link PasswordGrantOptions} after validation. */
export interface ResolvedPasswordGrantOptions {
  readonly allowPublicClients: boolean;
}

/** Why the grant is discouraged, for the warnings. */
export const REASON =
  "RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used — it hands the user's password to the client, trains users to type it outside the authorization server, and cannot do multi-factor or federated sign-in; move the client to the authorization code flow with PKCE.";

/** Validate the `passwordGrant` option at start-up; says so once when public clients are let in. */
export function resolvePasswordGrant(
  options: PasswordGrantOptions | undefined,
  logger: Logger,
): ResolvedPasswordGrantOptions {
  if (options !== undefined) {
    if (!isPlainObject(options))
      configError('ERR_TOKENGATE_TYPE', 'oauthServer: options.passwordGrant must be { allowPublicClients?: boolean }.');
    checkKnownKeys('oauthServer: options.passwordGrant', options, ['allowPublicClients']);
  }
  const allow = options?.allowPublicClients ?? false;
  if (typeof allow !== 'boolean')
    configError(
      'ERR_TOKENGATE_TYPE',
      `oauthServer: options.passwordGrant.allowPublicClients must be true or false (got ${String(allow)}).`,
    );
  if (allow)
    logger.warn(
      `options.passwordGrant.allowPublicClients is on: public clients listing the password grant may use it with no client authentication. ${REASON}`,
    );
  return Object.freeze({ allowPublicClients: allow });
}
