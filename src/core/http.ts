/**
 * The HTTP shapes every layer shares, on `node:http` types so that the core stays
 * framework-agnostic: Express, Connect and plain Node requests all fit.
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as our handlers see it: Node's, plus whatever body a framework parsed earlier. */
export type Request = IncomingMessage & { body?: unknown; _body?: boolean; originalUrl?: string };

/** Request parameters, each given once. A null-prototype object, so `__proto__` is just a name. */
export type Params = Readonly<Record<string, string>>;

/** Connect's `next`: called with nothing to pass the request on, or with an error. */
export type Next = (err?: unknown) => void;

/**
 * A request handler that answers every request it is given (an endpoint), or, with
 * `errors: 'next'`, hands its error to `next(err)`.
 */
export type Handler = (req: Request, res: ServerResponse, next: Next) => Promise<void>;

/** A Connect/Express middleware: answers the request or calls `next`. */
export type Middleware<Req extends Request = Request> = (req: Req, res: ServerResponse, next: Next) => void;
