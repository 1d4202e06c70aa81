/**
 * Start-up validation of the authorization code flow's options and client registrations:
 * mistakes fail at `oauthServer(...)`/`memoryStores(...)` with a message that says what to change.
 */
import type { ServerResponse } from 'node:http';
import { memoryStores, oauthServer, type AuthorizeHooks, type ServerOptions } from '../../src';
import { oauthServer as expressOauthServer } from '../../src/express';
import { CLIENTS, ISSUER } from '../support/authorization-code';

const quiet = { warn() {}, error() {} };
const stores = () => memoryStores({ clients: CLIENTS });
const build = (options: Partial<ServerOptions>) => () =>
  oauthServer(stores(), { issuer: ISSUER, logger: quiet, authorize: { authenticate: () => undefined }, ...options });

describe('authorization code options are validated at start-up', () => {
  test('authorize needs an authenticate function; consent, if given, must be a function', () => {
    expect(build({ authorize: {} as AuthorizeHooks })).toThrow(/options\.authorize must be \{ authenticate/);
    expect(build({ authorize: null as unknown as AuthorizeHooks })).toThrow(/options\.authorize/);
    expect(build({ authorize: { authenticate: () => undefined, consent: true as never } })).toThrow(
      /options\.authorize\.consent must be a function/,
    );
  });

  test('authorizationCodeLifetime is a whole number of seconds, at most 600 (RFC 6749 §4.1.2)', () => {
    expect(build({ authorizationCodeLifetime: 601 })).toThrow(/at most 600/);
    expect(build({ authorizationCodeLifetime: 0 })).toThrow(/authorizationCodeLifetime/);
    expect(build({ authorizationCodeLifetime: 1.5 })).toThrow(/authorizationCodeLifetime/);
    expect(build({ authorizationCodeLifetime: 600 })).not.toThrow();
    expect(build({})().context.options.authorizationCodeLifetime).toBe(60);
  });

  test('pkce takes booleans only; S256-only and public-clients-only are the defaults', () => {
    expect(build({ pkce: { allowPlain: 'yes' as never } })).toThrow(/options\.pkce\.allowPlain must be true or false/);
    expect(build({ pkce: 'strict' as never })).toThrow(/options\.pkce must be/);
    expect(build({})().context.options.pkce).toEqual({ requireForAll: false, allowPlain: false });
  });

  test('authorizePath must be a path and differ from the token endpoint', () => {
    expect(build({ authorizePath: 'authorize' })).toThrow(/authorizePath must be a path/);
    expect(build({ authorizePath: '/oauth/token' })).toThrow(/must differ/);
    expect(build({})().context.options.authorizePath).toBe('/oauth/authorize');
  });
});

describe('client registrations for the code flow are validated at start-up (RFC 6749 §3.1.2)', () => {
  const client = { id: 'c', grants: ['authorization_code' as const], scopes: ['read'] };

  test('a client with the authorization_code grant needs redirect URIs', () => {
    expect(() => memoryStores({ clients: [client] })).toThrow(
      /client "c" has the authorization_code grant but no redirectUris/,
    );
  });

  test('a redirect URI must be absolute and without a fragment', () => {
    expect(() => memoryStores({ clients: [{ ...client, redirectUris: ['/callback'] }] })).toThrow(
      /absolute URI of printable ASCII .* without a fragment/,
    );
    expect(() => memoryStores({ clients: [{ ...client, redirectUris: ['https://app.example/cb#x'] }] })).toThrow(
      /without a fragment/,
    );
    expect(() => memoryStores({ clients: [{ ...client, redirectUris: ['com.example.app:/oauth'] }] })).not.toThrow();
  });
});

// Compiled by `npm run lint`: the documented hooks type-check as written, with the hooks'
// req/res typed as Express's through `tokengate/express`, and as Node's through `tokengate`.
test('the documented hooks compile and are accepted as they are written in the docs', () => {
  const oauth = expressOauthServer(stores(), {
    issuer: ISSUER,
    logger: quiet,
    authorize: {
      authenticate: async (req, res) =>
        signedIn(req.get('cookie')) ?? res.redirect('/login?next=' + encodeURIComponent(req.originalUrl)),
      consent: async (_req, _res, { client, user, scopes }) => client.id !== '' && user.id !== '' && scopes.length >= 0,
    },
  });
  expect(oauth.context.options.authorize).toBeDefined();
  const typed: AuthorizeHooks<{ session?: { user?: { id: string } } }, ServerResponse> = {
    authenticate: (req) => req.session?.user,
  };
  expect(typeof typed.authenticate).toBe('function');
});

const signedIn = (cookie: string | undefined) => (cookie === 'user=alice' ? { id: 'alice' } : undefined);
