import { authorizationCodeGrant } from './authorization-code';
import { clientCredentialsGrant } from './client-credentials';
import { passwordGrant } from './password';
import { refreshTokenGrant } from './refresh-token';
import { tokenExchangeGrant } from './token-exchange';
import type { TokenExchangeOptions } from './token-exchange-options';
import type { CredentialGuard, Grant, GrantLimits } from './types';

export type { CredentialGuard, Grant, GrantLimits };

/** The grants of the token endpoint, by `grant_type`. */
export function builtInGrants(options: {
  password: boolean;
  authorizationCode?: boolean;
  tokenExchange?: TokenExchangeOptions;
}): Map<string, Grant> {
  const grants: Grant[] = [clientCredentialsGrant, refreshTokenGrant];
  if (options.password) grants.push(passwordGrant);
  if (options.authorizationCode) grants.push(authorizationCodeGrant);
  if (options.tokenExchange) grants.push(tokenExchangeGrant(options.tokenExchange));
  return new Map(grants.map((grant) => [grant.type, grant]));
}
