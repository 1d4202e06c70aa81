// An MCP server (Model Context Protocol, Streamable HTTP transport, one tool) protected by
// tokengate in the same Express app: MCP clients discover the authorization server from the
// MCP URL (RFC 9728), register themselves (RFC 7591), sign the user in with the code flow
// and PKCE, and get a token for this one resource (RFC 8707).
'use strict';
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const express = require('express');
const { z } = require('zod');
const { oauthServer, memoryStores } = require('tokengate');
const pages = require('../basic/pages');
const { demoSession, authorizeHooks, signInPages } = require('../basic/session');

/** The MCP server of one request: one tool, `greet`, which knows who called it. */
function mcpServer(auth) {
  const server = new McpServer({ name: 'tokengate-example', version: '1.0.0' });
  server.registerTool(
    'greet',
    { description: 'Greets someone, signed by the user the token was issued for.', inputSchema: { name: z.string() } },
    async ({ name }) => ({
      content: [{ type: 'text', text: `Hello, ${name}! (from ${auth.sub}, scopes: ${auth.scope.join(' ')})` }],
    }),
  );
  return server;
}

/**
 * Build the app for this public base URL: the issuer, and `${baseUrl}/mcp` the MCP URL. Give
 * clients exactly that URL (same scheme, host spelling and port): MCP clients check that the
 * resource metadata names the URL they were given.
 */
function createMcpApp({ baseUrl, resources = {} }) {
  const mcpUrl = `${baseUrl}/mcp`;
  const stores = memoryStores({
    clients: [],
    users: [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }],
  });

  // The example uses an ephemeral key (tokengate warns about it); real apps pass options.keys.
  const oauth = oauthServer(stores, {
    issuer: baseUrl,
    authorize: authorizeHooks((client) => client.registration?.metadata.client_name ?? client.id),
    resources: { [mcpUrl]: { scopes: ['tools:call'], name: 'tokengate example MCP server' }, ...resources },
    registration: { open: true },
  });
  const mcp = oauth.protectedResource({ resource: mcpUrl, scope: 'tools:call' });

  const app = express();
  app.use(demoSession({ secure: new URL(baseUrl).protocol === 'https:' }));
  app.use(oauth);
  app.use(mcp.metadata); // GET /.well-known/oauth-protected-resource/mcp
  signInPages(app, { users: stores.users });
  app.get('/', (_req, res) =>
    res
      .type('html')
      .send(
        pages.layout('MCP example', `<h1>MCP example</h1><p>MCP URL: <code>${pages.escapeHtml(mcpUrl)}</code></p>`),
      ),
  );

  // Stateless Streamable HTTP: a server and a transport per request. GET (the server-sent
  // events stream) and DELETE (ending a session) sit behind the same guard and answer 405,
  // as a stateless server does.
  app.all('/mcp', mcp.requireToken(), express.json({ limit: '1mb' }), async (req, res) => {
    if (req.method !== 'POST')
      return res
        .status(405)
        .set('Allow', 'POST')
        .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
    const server = mcpServer(req.auth);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  return { app, oauth, mcp, mcpUrl, stores };
}

module.exports = { createMcpApp };
