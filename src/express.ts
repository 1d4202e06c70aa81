/**
 * Opt-in typing of `req.auth` for Express: `import 'tokengate/express';` once in the app.
 * Routes behind `requireToken()` can then read `req.auth.sub` without a cast.
 * @module tokengate/express
 * @packageDocumentation
 */
import type { AuthInfo } from './bearer/auth-info';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `requireToken()`; present on every route it guards. */
      auth: AuthInfo;
    }
  }
}

export type { AuthInfo };
