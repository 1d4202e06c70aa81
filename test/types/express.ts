// Type-level test (checked by `npm run lint`; the same checks against the published package
// run in test/package/typing.test.ts): `tokengate/express` types the hooks with Express's
// request and response, `tokengate` with Node's, and nothing declares `req.auth` globally (#17).
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { oauthServer as nodeOauthServer } from '../../src';
import { getAuth, memoryStores, oauthServer, type AuthInfo } from '../../src/express';

const stores = memoryStores({ clients: [] });
const issuer = 'https://auth.example.com';

// Through tokengate/express, req and res are Express's: no annotation, no cast.
export const expressTyped = oauthServer(stores, {
  issuer,
  authorize: {
    authenticate: (req, res, { resumeUrl }) => {
      const wanted: string = req.originalUrl + String(req.query.next ?? '') + (req.get('accept') ?? '');
      if (wanted === '') return undefined;
      return res.redirect(`/login?next=${encodeURIComponent(resumeUrl)}`);
    },
    consent: (req, res) => {
      res.status(200);
      return req.method === 'POST';
    },
  },
  openid: {
    logout: (req, res) => {
      res.clearCookie(req.path);
    },
  },
});

oauthServer(stores, {
  issuer,
  authorize: {
    // @ts-expect-error Express's Request has no such helper: a typo is caught
    authenticate: (req) => req.sesion,
  },
});

oauthServer(stores, {
  issuer,
  authorize: {
    // @ts-expect-error a hook returns a user, { user, authTime, ... } or undefined, not a string
    authenticate: () => 'alice',
  },
});

// Through tokengate, the core, they are Node's own types (Connect and plain Node).
export const nodeTyped = nodeOauthServer(stores, {
  issuer,
  authorize: {
    authenticate: (req, res) => {
      const message: IncomingMessage = req;
      const response: ServerResponse = res;
      void message;
      response.writeHead(302, { location: '/login' }).end();
      return undefined;
    },
  },
});

nodeOauthServer(stores, {
  issuer,
  authorize: {
    // @ts-expect-error Node's ServerResponse has no redirect(): Express's hooks come from tokengate/express
    authenticate: (_req, res) => res.redirect('/login'),
  },
});

// The core also takes the framework's types when the hooks' parameters are annotated.
nodeOauthServer(stores, {
  issuer,
  authorize: { authenticate: (req: express.Request, res: express.Response) => res.redirect(req.originalUrl) },
});

// The validated token: getAuth(req), typed; req.auth is declared by no one.
const app = express();
app.use(expressTyped);
app.get('/api/me', expressTyped.requireToken({ scope: 'read' }), (req, res) => {
  const auth: AuthInfo = getAuth(req);
  const sub: string = auth.sub;
  const scope: readonly string[] = auth.scope;
  const maybe: AuthInfo | undefined = getAuth(req, { optional: true });
  // @ts-expect-error getAuth(req, { optional: true }) may give undefined
  const surely: AuthInfo = getAuth(req, { optional: true });
  // @ts-expect-error tokengate declares no req.auth on Express's global Request (it would clash with other libraries')
  const declared: unknown = req.auth;
  res.json({ sub, scope, maybe, surely, declared });
});
export default app;
