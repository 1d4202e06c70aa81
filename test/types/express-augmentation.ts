// Type-level test (checked by `npm run lint`): after the opt-in import, `req.auth` is typed on
// Express requests, as the README's quick start uses it.
import express from 'express';
import '../../src/express';
import { oauthServer, memoryStores } from '../../src';

const oauth = oauthServer(memoryStores({ clients: [] }), { issuer: 'https://auth.example.com' });
const app = express();
app.use(oauth);
app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
  const sub: string = req.auth.sub;
  const scope: readonly string[] = req.auth.scope;
  const expiresAt: number = req.auth.expiresAt;
  res.json({ sub, client_id: req.auth.clientId, scope, expiresAt });
});
export default app;
