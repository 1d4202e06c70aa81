// The Prometheus example: `npm run example:prometheus` (it builds first). PORT picks the port
// (0: a free one). Prints the URL of /metrics and a curl line that issues a token.
'use strict';
const http = require('node:http');
const { createApp } = require('./app');

const PORT = Number(process.env.PORT ?? 3002);

const server = http.createServer();
server.listen(PORT, () => {
  const url = `http://localhost:${server.address().port}`;
  const { app } = createApp({ issuer: url });
  server.on('request', app);
  console.log(`tokengate Prometheus example listening on ${url}

Issue a token, then look at the counters:
  curl -X POST ${url}/oauth/token -u web-app:web-secret -d grant_type=client_credentials
  curl ${url}/metrics
`);
});

module.exports = { server };
