/**
 * The MCP SDK's own client against examples/mcp, starting from nothing but the MCP URL:
 * 401 → protected resource metadata (RFC 9728) → authorization server metadata (RFC 8414) →
 * dynamic registration (RFC 7591) → code + PKCE with a loopback redirect (RFC 8252), signing
 * in through the example's pages over HTTP → token with resource (RFC 8707) → tools. Then a
 * token for another resource is refused, and the client refreshes by itself after a 401.
 * Needs the built package (`npm run build`, as `npm test` does first).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { startScript } from '../support/script-process';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createMcpApp } = require('../../examples/mcp/app');

const REDIRECT = 'http://127.0.0.1:53682/callback';

/** What an MCP host keeps for one server: registration, tokens, the PKCE verifier. */
class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  registrations = 0;

  get redirectUrl(): string {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP SDK e2e',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.registrations++;
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** A browser for the example's pages: follows the flow by hand, keeping the session cookie. */
async function signInAndApprove(base: string, authorizationUrl: URL): Promise<URL> {
  let cookie = '';
  const get = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(new URL(url, base), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie },
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0] as string;
    return res;
  };
  const post = (url: string, form: Record<string, string>) =>
    get(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const field = (html: string, name: string): string => {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
    if (!match) throw new Error(`no ${name} field in the page`);
    return (match[1] as string)
      .replace(/&amp;/g, '&')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"');
  };

  const toLogin = await get(authorizationUrl.href);
  expect(toLogin.status).toBe(302);
  const loginPage = await (await get(toLogin.headers.get('location') as string)).text();
  expect(loginPage).toContain('name="username"');
  const signedIn = await post('/login', {
    csrf: field(loginPage, 'csrf'),
    next: field(loginPage, 'next'),
    username: 'alice@example.com',
    password: 'wonderland',
  });
  expect(signedIn.status).toBe(303);
  const toConsent = await get(signedIn.headers.get('location') as string);
  expect(toConsent.headers.get('location')).toBe('/consent');
  const consentPage = await (await get('/consent')).text();
  expect(consentPage).toContain('MCP SDK e2e');
  expect(consentPage).toContain('Allow');
  const approved = await post('/consent', { csrf: field(consentPage, 'csrf'), decision: 'approve' });
  const back = await get(approved.headers.get('location') as string);
  expect(back.status).toBe(302);
  return new URL(back.headers.get('location') as string);
}

let server: http.Server;
let base: string;
let example: ReturnType<typeof createMcpApp>;

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const quiet = console.warn;
  console.warn = () => undefined; // the example's ephemeral-key warning
  try {
    example = createMcpApp({ baseUrl: base, resources: { [`${base}/other-mcp`]: { scopes: ['tools:call'] } } });
  } finally {
    console.warn = quiet;
  }
  server.on('request', example.app);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('the MCP SDK client goes from the MCP URL alone to calling a tool: RFC 9728 discovery, RFC 8414, RFC 7591 registration, code + PKCE with a loopback redirect, token for the resource (RFC 8707); a token for another resource is refused; a 401 makes it refresh', async () => {
  const provider = new MemoryProvider();
  const mcpUrl = new URL(example.mcpUrl);

  // 1. Nothing but the URL: the first request is refused, and the SDK discovers, registers
  //    and sends the user to the authorization endpoint.
  const first = new Client({ name: 'e2e', version: '1.0.0' });
  await expect(
    first.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider })),
  ).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.registrations).toBe(1);
  expect(provider.info?.client_id).toMatch(/^tgc_/);
  const authorizationUrl = provider.authorizationUrl as URL;
  expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${base}/oauth/authorize`);
  expect(authorizationUrl.searchParams.get('resource')).toBe(example.mcpUrl);
  expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');

  // 2. The user signs in and approves on the example's pages; the code comes back to the loopback redirect.
  const callback = await signInAndApprove(base, authorizationUrl);
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  expect(callback.searchParams.get('iss')).toBe(base);
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await transport.finishAuth(callback.searchParams.get('code') as string);
  const accessToken = provider.saved?.access_token as string;
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString());
  expect(payload.aud).toBe(example.mcpUrl);

  // 3. Connected: the tools are listed and called.
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(['greet']);
  const result = await client.callTool({ name: 'greet', arguments: { name: 'MCP' } });
  expect((result.content as { text: string }[])[0]?.text).toBe('Hello, MCP! (from user-alice, scopes: tools:call)');
  await client.close();

  // 4. A token minted for another resource of the same server is refused (RFC 8707).
  const reg = await fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_types: ['client_credentials'],
      response_types: [],
      scope: 'tools:call',
      client_name: 'other',
    }),
  }).then((r) => r.json() as Promise<{ client_id: string; client_secret: string }>);
  const other = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${reg.client_id}:${reg.client_secret}`).toString('base64'),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${base}/other-mcp` }).toString(),
  }).then((r) => r.json() as Promise<{ access_token: string }>);
  const refused = await fetch(example.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${other.access_token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  expect(refused.headers.get('www-authenticate')).toContain(
    `resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
  );

  // 5. An access token that stopped working gets 401 invalid_token; the SDK refreshes (with
  //    resource again) and carries on, without a new sign-in or registration.
  const oldRefresh = provider.saved?.refresh_token;
  provider.saved = { ...(provider.saved as OAuthTokens), access_token: 'expired-or-unknown' };
  const again = new Client({ name: 'e2e', version: '1.0.0' });
  await again.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  expect((await again.listTools()).tools).toHaveLength(1);
  await again.close();
  expect(provider.saved?.access_token).not.toBe('expired-or-unknown');
  expect(provider.saved?.refresh_token).not.toBe(oldRefresh);
  expect(provider.registrations).toBe(1);

  // Streamable HTTP GET and DELETE sit behind the same guard.
  expect((await fetch(example.mcpUrl, { method: 'GET' })).status).toBe(401);
  const get = await fetch(example.mcpUrl, {
    method: 'GET',
    headers: { authorization: `Bearer ${provider.saved?.access_token}` },
  });
  expect(get.status).toBe(405);
  expect((await fetch(example.mcpUrl, { method: 'DELETE' })).status).toBe(401);
});

test('npm run example:mcp honours PORT and prints the MCP URL it is configured with, whose RFC 9728 metadata names that same URL', async () => {
  const example = startScript('examples/mcp/server.js', { PORT: '0' });
  try {
    const url = (await example.waitFor(/MCP URL: (\S+)/))[1] as string;
    expect(url).toMatch(/^http:\/\/localhost:\d+\/mcp$/);
    const metadataUrl = url
      .replace(/\/mcp$/, '/.well-known/oauth-protected-resource/mcp')
      .replace('localhost', '127.0.0.1');
    const metadata = (await (await fetch(metadataUrl)).json()) as { resource: string; authorization_servers: string[] };
    expect(metadata.resource).toBe(url);
    expect(metadata.authorization_servers).toEqual([url.replace(/\/mcp$/, '')]);
  } finally {
    await example.stop();
  }
});
