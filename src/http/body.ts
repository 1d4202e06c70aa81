/**
 * Reading request parameters from `application/x-www-form-urlencoded` and
 * `multipart/form-data` bodies (fields only), or from a body the app already parsed.
 * Every failure is an {@link InvalidRequest}; nothing here can crash the process.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { InvalidRequest } from '../core/errors';

import type { Params, Request } from '../core/http';

export type { Params, Request };

const FORM = 'application/x-www-form-urlencoded';
const MULTIPART = 'multipart/form-data';
const MAX_FIELDS = 64;

function tooLarge(): InvalidRequest {
  return new InvalidRequest('The request body is too large.', 413, { Connection: 'close' });
}

/** How long a request body may take to arrive when the caller does not say: 10 seconds. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

// 408 with Connection: close: Node then closes the socket after the answer, so a client that
// trickles its body or never finishes it holds nothing once the deadline has passed.
function tooSlow(): InvalidRequest {
  return new InvalidRequest('The request body did not arrive in time.', 408, { Connection: 'close' });
}

/** Call `fail` if the whole body has not arrived `ms` after reading began; returns the canceller. */
function deadline(ms: number, fail: () => void): () => void {
  const timer = setTimeout(fail, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Parameters a client may repeat: `resource` (RFC 8707 §2) and token exchange's `audience`
 * (RFC 8693 §2.1). Every other repeat is refused.
 */
const REPEATABLE = new Set(['resource', 'audience']);
// The second and later values of a repeatable parameter, beside the params object (whose
// type stays one string per name for every other reader).
const repeats = new WeakMap<object, Map<string, string[]>>();

function valueCount(params: Record<string, string>): number {
  let count = Object.keys(params).length;
  for (const more of repeats.get(params)?.values() ?? []) count += more.length;
  return count;
}

/** Add one parameter, refusing a repeat (RFC 6749 §3.2: parameters MUST NOT be included more than once). */
function add(params: Record<string, string>, name: string, value: string): void {
  const repeated = Object.prototype.hasOwnProperty.call(params, name);
  if (repeated && !REPEATABLE.has(name)) {
    throw new InvalidRequest(`The "${printable(name)}" parameter is included more than once.`);
  }
  if (valueCount(params) >= MAX_FIELDS) throw new InvalidRequest('The request has too many parameters.');
  if (!repeated) {
    params[name] = value;
    return;
  }
  let more = repeats.get(params);
  if (more === undefined) repeats.set(params, (more = new Map<string, string[]>()));
  const list = more.get(name);
  if (list === undefined) more.set(name, [value]);
  else list.push(value);
}

/**
 * Every value of a parameter a client may repeat (`resource`, `audience`), in the order
 * sent; `[]` when absent. For any other name, its one value.
 */
export function allValues(params: Params, name: string): string[] {
  if (!Object.prototype.hasOwnProperty.call(params, name)) return [];
  const more = repeats.get(params)?.get(name);
  return more === undefined ? [params[name] as string] : [params[name] as string, ...more];
}

/** A parameter name safe to quote in an error: printable ASCII only, bounded length. */
export function printable(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'];
  return header === undefined ? '' : (header.split(';', 1)[0] as string).trim().toLowerCase();
}

function fromParsedBody(body: unknown): Record<string, string> {
  const params = Object.create(null) as Record<string, string>;
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) {
    throw new InvalidRequest('The request body must be form fields.');
  }
  for (const name of Object.keys(body)) {
    const value = (body as Record<string, unknown>)[name];
    // Body parsers turn repeated fields into arrays and `a[b]=c` into objects.
    if (Array.isArray(value) && REPEATABLE.has(name) && value.length > 0 && value.every((v) => typeof v === 'string')) {
      for (const v of value as string[]) add(params, name, v);
      continue;
    }
    if (Array.isArray(value))
      throw new InvalidRequest(`The "${printable(name)}" parameter is included more than once.`);
    if (typeof value !== 'string')
      throw new InvalidRequest(`The "${printable(name)}" parameter must be a plain string.`);
    add(params, name, value);
  }
  return params;
}

function readRaw(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const cancel = deadline(timeoutMs, () => failed || ((failed = true), reject(tooSlow())));
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        cancel();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (cancel(), failed || resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on(
      'error',
      () => (cancel(), failed || ((failed = true), reject(new InvalidRequest('The request body could not be read.')))),
    );
  });
}

async function readForm(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Record<string, string>> {
  const raw = await readRaw(req, maxBytes, timeoutMs);
  const params = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(raw)) add(params, name, value);
  return params;
}

function readMultipart(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          fieldNameSize: 200,
          fieldSize: maxBytes,
          fields: MAX_FIELDS,
          files: 0,
          parts: MAX_FIELDS,
          headerPairs: 20,
        },
      });
    } catch {
      req.resume();
      reject(new InvalidRequest('The multipart/form-data request has no valid boundary.'));
      return;
    }
    const params = Object.create(null) as Record<string, string>;
    let size = 0;
    let settled = false;
    const cancel = deadline(timeoutMs, () => fail(tooSlow()));
    const fail = (error: InvalidRequest): void => {
      if (settled) return;
      settled = true;
      cancel();
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge());
    });
    req.on('error', () => fail(new InvalidRequest('The request body could not be read.')));
    parser.on('field', (name, value, info) => {
      if (settled) return;
      if (info.valueTruncated || info.nameTruncated) return fail(tooLarge());
      // busboy reports a part with `name=""` (or none) as an undefined name.
      if (typeof name !== 'string' || name === '')
        return fail(new InvalidRequest('A multipart/form-data part has no field name.'));
      try {
        add(params, name, value);
      } catch (err) {
        fail(err as InvalidRequest);
      }
    });
    parser.on('file', (_name, stream) => {
      stream.resume();
      fail(new InvalidRequest('File uploads are not accepted; send form fields only.'));
    });
    parser.on('filesLimit', () => fail(new InvalidRequest('File uploads are not accepted; send form fields only.')));
    parser.on('fieldsLimit', () => fail(new InvalidRequest('The request has too many parameters.')));
    parser.on('partsLimit', () => fail(new InvalidRequest('The request has too many parts.')));
    parser.on('error', () => fail(new InvalidRequest('The multipart/form-data body is malformed.')));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      cancel();
      resolve(params);
    });
    req.pipe(parser);
  });
}

/**
 * The request's body parameters. Accepts form-urlencoded and multipart bodies, or a body an
 * earlier `express.urlencoded()`/multer already parsed; a JSON or other body is refused.
 * A body larger than `maxBytes` is 413; one that has not fully arrived `timeoutMs` after
 * reading began is 408 (both close the connection).
 */
export async function readParams(req: Request, maxBytes: number, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<Params> {
  const type = mediaType(req);
  const alreadyRead = req._body === true || req.readableEnded;
  if (type !== FORM && type !== MULTIPART) {
    const empty =
      type === '' &&
      (alreadyRead ||
        req.headers['content-length'] === '0' ||
        (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined));
    if (empty) return Object.create(null) as Record<string, string>;
    req.resume();
    throw new InvalidRequest('The Content-Type must be application/x-www-form-urlencoded or multipart/form-data.');
  }
  if (alreadyRead) return fromParsedBody(req.body ?? {});
  return type === FORM ? readForm(req, maxBytes, timeoutMs) : readMultipart(req, maxBytes, timeoutMs);
}

/**
 * A JSON request body (`application/json`), for endpoints whose RFC speaks JSON (client
 * registration, RFC 7591 §3.1). Same size and time limits as {@link readParams}; a missing or
 * malformed body is an {@link InvalidRequest}.
 */
export async function readJson(req: Request, maxBytes: number, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<unknown> {
  if (mediaType(req) !== 'application/json') {
    req.resume();
    throw new InvalidRequest('The Content-Type must be application/json.');
  }
  if (req._body === true || req.readableEnded) {
    if (req.body !== undefined && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) return req.body;
    throw new InvalidRequest('The request body was already read and is not JSON.');
  }
  const raw = await readRaw(req, maxBytes, timeoutMs);
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new InvalidRequest('The request body is not valid JSON.');
  }
}

/**
 * The raw body of a request nobody has read yet, without consuming it: the bytes are read and
 * put back at the front of the stream, so a body parser later in the chain reads them as if
 * untouched. Only for a body of declared length up to `maxBytes` (`undefined` otherwise, and
 * when the body was already read): an unknown or larger body is left alone rather than
 * buffered. A body that has not arrived `timeoutMs` after reading began is 408.
 */
export function peekBody(
  req: Request,
  maxBytes: number,
  timeoutMs = DEFAULT_BODY_TIMEOUT_MS,
): Promise<Buffer | undefined> {
  const declared = req.headers['content-length'];
  const length = Number(declared);
  if (
    declared === undefined ||
    !Number.isSafeInteger(length) ||
    length > maxBytes ||
    req._body === true ||
    req.readableEnded
  )
    return Promise.resolve(undefined);
  if (length === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: InvalidRequest): void => {
      cancel();
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
      const body = Buffer.concat(chunks);
      // Put back synchronously, before the stream can emit 'end' for its emptied buffer.
      if (body.length > 0 && !req.destroyed && !req.readableEnded) req.unshift(body);
      if (error) reject(error);
      else resolve(body);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (size < length && (chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        size += chunk.length;
      }
      if (size >= length) finish();
    };
    const onEnd = (): void => finish();
    const onError = (): void => finish(new InvalidRequest('The request body could not be read.'));
    const cancel = deadline(timeoutMs, () => finish(tooSlow()));
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
