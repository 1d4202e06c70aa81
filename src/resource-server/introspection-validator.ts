/**
 * Validating tokens through the issuer's introspection endpoint (RFC 7662), as a client of
 * that endpoint. Works for opaque and JWT access tokens alike, and sees revocations: the
 * caching guard re-asks after at most `maxStaleness` seconds.
 * @packageDocumentation
 */
import type { TokenValidator, ValidatedToken } from '../bearer/auth-info';
import { validated } from '../bearer/local-validator';
import { hashToken } from '../core/crypto';
import { InvalidToken } from '../core/errors';
import type { Logger } from '../core/logging';
import { fetchJson, type IssuerDiscovery } from './discovery';

/** What {@link introspectionValidator} needs. */
export interface IntrospectionValidatorConfig {
  issuer: string;
  audience: readonly string[];
  clientId: string;
  clientSecret: string;
  /** The endpoint URL; when absent, the `introspection_endpoint` of the issuer's metadata. */
  endpoint: string | undefined;
  discovery: IssuerDiscovery;
  timeoutMs: number;
  logger: Logger;
}

const UNAVAILABLE = 'The access token cannot be verified right now.';

// RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64'd.
function basicAuth(id: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64');
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  return Array.isArray(aud) && aud.some((a) => typeof a === 'string' && accepted.includes(a));
}

/** A validator that asks the issuer's introspection endpoint. */
export function introspectionValidator(config: IntrospectionValidatorConfig): TokenValidator {
  const { issuer, audience, discovery, timeoutMs, logger } = config;
  const authorization = basicAuth(config.clientId, config.clientSecret);
  // Concurrent requests with the same uncached token share one introspection call.
  const inFlight = new Map<string, Promise<ValidatedToken>>();

  async function endpoint(): Promise<string> {
    if (config.endpoint !== undefined) return config.endpoint;
    const metadata = await discovery.get();
    if (typeof metadata.introspection_endpoint !== 'string')
      throw new Error(`${discovery.url} has no introspection_endpoint.`);
    return metadata.introspection_endpoint;
  }

  async function ask(token: string): Promise<Record<string, unknown>> {
    let url = config.endpoint ?? `the introspection_endpoint of ${discovery.url}`;
    let response;
    try {
      url = await endpoint();
      response = await fetchJson(url, {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        timeoutMs,
      });
    } catch (err) {
      if (config.endpoint === undefined) discovery.invalidate();
      logger.error(`requireToken: could not reach ${url}; answered 401 invalid_token.`, err);
      throw new InvalidToken(UNAVAILABLE);
    }
    if (response.status === 401) {
      logger.error(
        `requireToken: ${url} refused our client credentials; check introspection.clientId and clientSecret (answered 401 invalid_token).`,
      );
      throw new InvalidToken(UNAVAILABLE);
    }
    if (response.status !== 200 || response.body === null || typeof response.body !== 'object') {
      logger.error(
        `requireToken: ${url} answered ${response.status} without an introspection response; answered 401 invalid_token.`,
      );
      throw new InvalidToken(UNAVAILABLE);
    }
    return response.body as Record<string, unknown>;
  }

  async function introspect(token: string): Promise<ValidatedToken> {
    const body = await ask(token);
    if (body.active !== true) throw new InvalidToken();
    const { iss, aud, exp, sub, client_id: clientId, scope, token_type: tokenType, jti } = body;
    // RFC 7662 §4: the resource server checks the token is meant for it. A refresh token has
    // no audience, so it cannot pass for an access token here.
    if (iss !== undefined && iss !== issuer)
      throw new InvalidToken('The access token was not issued by the expected issuer.');
    if (!audienceMatches(aud, audience))
      throw new InvalidToken('The access token is not meant for this resource server.');
    if (
      tokenType !== undefined &&
      (typeof tokenType !== 'string' || (tokenType.toLowerCase() !== 'bearer' && tokenType.toLowerCase() !== 'dpop'))
    )
      throw new InvalidToken('The token is not a bearer access token.');
    if (typeof exp !== 'number' || exp <= Date.now() / 1000) throw new InvalidToken('The access token has expired.');
    if (typeof sub !== 'string' || typeof clientId !== 'string' || (scope !== undefined && typeof scope !== 'string')) {
      throw new InvalidToken('The access token lacks required claims.');
    }
    const claims: Record<string, unknown> = { ...body };
    delete claims.active;
    return validated(
      sub,
      clientId,
      (scope as string | undefined) ?? '',
      exp,
      claims,
      typeof jti === 'string' ? [jti] : [],
    );
  }

  return function validateByIntrospection(token) {
    const key = hashToken(token);
    let pending = inFlight.get(key);
    if (pending === undefined) {
      pending = introspect(token).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}
