import { authorizationCodeGrant } from './authorization-code';
import { clientCredentialsGrant } from './client-credentials';
import { passwordGrant } from './password';
import { refreshTokenGrant } from './refresh-token';
import type { CredentialGuard, Grant, GrantLimits } from './types';

export type { CredentialGuard, Grant, GrantLimits };

/** The grants of the token endpoint, by `grant_type`. */
export function builtInGrants(options: { password: boolean; authorizationCode?: boolean }): Map<string, Grant> {
  const grants: Grant[] = [clientCredentialsGrant, refreshTokenGrant];
  if (options.password) grants.push(passwordGrant);
  if (options.authorizationCode) grants.push(authorizationCodeGrant);
  return new Map(grants.map((grant) => [grant.type, grant]));
}
