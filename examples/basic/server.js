// The demo: an Express app with tokengate on the in-memory store. Run with `npm start` (it
// builds first); it prints the URL to open and curl lines to try.
'use strict';
const http = require('node:http');
const { createDemo } = require('./app');
const { demoKeys } = require('./keys');

const PORT = Number(process.env.PORT ?? 3000);

// The issuer (and the demo client's redirect URI) depend on the port, so the app is built
// once the server listens: PORT=0 picks a free port and still works.
const server = http.createServer();
server.listen(PORT, () => {
  const url = process.env.ISSUER ?? `http://localhost:${server.address().port}`;
  // The signing keys live in a key file (made on first start), so tokens survive a restart.
  const { keys, file, created } = demoKeys(process.env.DEMO_KEYS_FILE);
  const { app } = createDemo({ issuer: url, keys });
  server.on('request', app);
  console.log(`tokengate demo listening on ${url}

Signing keys: ${file} (${created ? 'created now; delete it to get new keys' : 'loaded'}).

Open ${url}/client in a browser to sign in with the authorization code flow and PKCE
(sign in as alice@example.com / wonderland, approve, and the client calls the protected API).

OpenID Connect discovery (the client page signs in with it and shows the ID token's claims):
  curl ${url}/.well-known/openid-configuration

Get a token for alice (password grant, multipart form, HTTP Basic client auth):
  curl -X POST ${url}/oauth/token -u web-app:web-secret -F username=alice@example.com -F password=wonderland -F grant_type=password

Get a token for the client itself (client_credentials, form body):
  curl --request POST --url ${url}/oauth/token --header 'Content-Type: application/x-www-form-urlencoded' --data-urlencode grant_type=client_credentials --data-urlencode client_id=web-app --data-urlencode client_secret=web-secret --data-urlencode 'scope=read write'

Call the protected route (put the access_token from above in TOKEN):
  curl ${url}/api/me -H "Authorization: Bearer $TOKEN"

Refresh (put the refresh_token from the first call in REFRESH):
  curl -X POST ${url}/oauth/token -u web-app:web-secret -d grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH"

See an error:
  curl -i -X POST ${url}/oauth/token -u web-app:wrong -d grant_type=client_credentials
`);
});

module.exports = { server };
