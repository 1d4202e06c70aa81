// The demo: an Express app with tokengate on the in-memory store.
// Run with `npm start` (it builds first); it prints curl lines to try.
'use strict';
const express = require('express');
const { oauthServer, memoryStores } = require('tokengate');

const PORT = Number(process.env.PORT ?? 3000);
const ISSUER = process.env.ISSUER ?? `http://localhost:${PORT}`;

const stores = memoryStores({
  clients: [
    {
      id: 'web-app',
      secret: 'web-secret',
      grants: ['client_credentials', 'password', 'refresh_token'],
      scopes: ['read', 'write'],
    },
  ],
  users: [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }],
});

// The demo uses an ephemeral key (tokengate warns about it); real apps pass options.keys.
const oauth = oauthServer(stores, { issuer: ISSUER });

const app = express();
app.use(oauth);
app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
  res.json({ sub: req.auth.sub, client_id: req.auth.clientId, scope: req.auth.scope });
});
app.get('/', (_req, res) => res.type('text').send('tokengate demo: see the curl lines printed on the console.\n'));

const server = app.listen(PORT, () => {
  const url = `http://localhost:${server.address().port}`;
  console.log(`tokengate demo listening on ${url}

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

module.exports = { app, server };
