// The MCP example: `npm run example:mcp` (it builds first). PORT picks the port (0: a free
// one); BASE_URL overrides the public URL. Prints the MCP URL to give an MCP client.
'use strict';
const http = require('node:http');
const { createMcpApp } = require('./app');

const PORT = Number(process.env.PORT ?? 3001);

const server = http.createServer();
server.listen(PORT, () => {
  const baseUrl = process.env.BASE_URL ?? `http://localhost:${server.address().port}`;
  const { app, mcpUrl } = createMcpApp({ baseUrl });
  server.on('request', app);
  console.log(`tokengate MCP example listening on ${baseUrl}

MCP URL: ${mcpUrl}

Give an MCP client exactly this URL (e.g. npx @modelcontextprotocol/inspector, transport
"Streamable HTTP"). It finds the authorization server from the URL, registers itself, and
sends you to sign in: alice@example.com / wonderland, then Allow.
`);
});

module.exports = { server };
