/**
 * Logging: the {@link Logger} interface an app passes, the default {@link consoleLogger}, the
 * adapters that let pino- and winston-style structured loggers be passed as they are, and the
 * diagnostics channel. Every log line of a server is also published on the
 * `diagnostics_channel` named {@link LOG_CHANNEL}, whatever logger the app configured: a hook
 * for APM tools and for tests that check logs for leaked secrets. Publishing costs nothing
 * without subscribers.
 *
 * @example
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('tokengate:log', ({ level, message }) => metrics.increment(`tokengate.${level}`));
 * ```
 * @packageDocumentation
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { loggableError, maskTokens, safeDetail, serializedError } from './redact';

/** The levels tokengate logs at, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Identifiers attached to a log line (`clientId`, `reason`, `grant`, `table`...): what an
 * operator searches logs by. Never a token, secret, code or password.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/**
 * Where log lines go. Three shapes are accepted as they are:
 * - console-style (`console`, or any object with these methods): called
 *   `logger.error(message, err)`; a line's fields are appended to the message;
 * - pino (and pino-compatible loggers such as Fastify's `request.log`): called
 *   `logger.error({ err, ...fields }, message)`;
 * - winston: called `logger.log({ level, message, ...fields, err })`.
 *
 * `info` and `debug` are optional: without them those lines are dropped (the default
 * {@link consoleLogger} prints warnings and errors only). Never given a token, secret, code or
 * password.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * oauthServer(stores, { issuer, logger: pino() }); // {"level":50,"err":{"type":"Error",...},"msg":"token endpoint: ..."}
 * ```
 */
export interface Logger {
  /** A failure the server answered with a 5xx, or a background task that failed; `detail` is the Error. */
  error(message: string, detail?: unknown): void;
  /** Something an operator should look at: a risky setting, a security incident (token reuse), a limit reached. */
  warn(message: string, detail?: unknown): void;
  /** Security-relevant moments that are part of normal operation: a revocation, a failed client authentication. */
  info?(message: string, detail?: unknown): void;
  /** Detail for diagnosing. */
  debug?(message: string, detail?: unknown): void;
}

/**
 * The logger as tokengate's own modules call it, whatever the app passed: every level, a
 * line's {@link LogFields}, and whether a level goes anywhere (so that a line nobody reads
 * costs nothing to build).
 */
export interface Log {
  error(message: string, detail?: unknown, fields?: LogFields): void;
  warn(message: string, detail?: unknown, fields?: LogFields): void;
  info(message: string, detail?: unknown, fields?: LogFields): void;
  debug(message: string, detail?: unknown, fields?: LogFields): void;
  /** Whether a line at `level` reaches the logger (it has the method and, for pino or winston, the level is on). */
  enabled(level: LogLevel): boolean;
}

/** `key=value` pairs for a text line; values with spaces, quotes or control characters JSON-quoted, secrets masked. */
function renderFields(fields: LogFields): string {
  const pairs: string[] = [];
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    const text = maskTokens(Array.isArray(value) ? value.join(' ') : String(value));
    pairs.push(`${key}=${/^[\x21-\x7e]+$/.test(text) && !/["=]/.test(text) ? text : JSON.stringify(text)}`);
  }
  return pairs.join(' ');
}

/** Field values with secrets masked, for a structured logger. */
function maskedFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    out[key] =
      typeof value === 'string'
        ? maskTokens(value)
        : Array.isArray(value)
          ? (value as readonly string[]).map(maskTokens)
          : value;
  }
  return out;
}

function consoleLine(message: string, detail: unknown, fields: LogFields | undefined): string {
  const rendered = fields === undefined ? '' : renderFields(fields);
  const context = rendered === '' ? '' : ` [${rendered}]`;
  return `[tokengate] ${maskTokens(message)}${context}${detail === undefined ? '' : ` (${safeDetail(detail)})`}`;
}

/**
 * The default {@link Logger}: `console`, warnings and errors only, each line prefixed with
 * `[tokengate]`, its fields appended in brackets.
 */
export const consoleLogger: Logger = {
  warn: (message, detail?: unknown, fields?: LogFields) => console.warn(consoleLine(message, detail, fields)),
  // The detail is an Error from a store, a hook or a bug. Only its name, code and message are
  // printed (secrets masked): a stack or a driver's extra fields can quote the values it was
  // called with. Pass your own logger to get the Error itself.
  error: (message, detail?: unknown, fields?: LogFields) => console.error(consoleLine(message, detail, fields)),
};

/** The name of the channel log lines are published on. */
export const LOG_CHANNEL = 'tokengate:log';

/** What is published for each log line. */
export interface LogEvent {
  level: LogLevel;
  message: string;
  detail: unknown;
  /** The line's identifiers, when it has any. */
  fields?: LogFields;
}

const channel = diagnosticsChannel.channel(LOG_CHANNEL);
const RESOLVED = Symbol('tokengate.log');

type AnyLogger = Record<string, unknown> & Logger;
type Write = (level: LogLevel, message: string, detail: unknown, fields: LogFields | undefined) => void;

/** pino and its kin (bunyan-style: the object first, then the message). */
function isPino(logger: AnyLogger): boolean {
  const levels = logger.levels as { values?: unknown } | undefined;
  return (
    typeof logger.child === 'function' &&
    typeof logger.bindings === 'function' &&
    typeof levels === 'object' &&
    typeof levels?.values === 'object'
  );
}

function isWinston(logger: AnyLogger): boolean {
  return typeof logger.log === 'function' && typeof logger.add === 'function' && 'transports' in logger;
}

function levelCheck(logger: AnyLogger): (level: LogLevel) => boolean {
  const isLevelEnabled = logger.isLevelEnabled;
  return typeof isLevelEnabled === 'function'
    ? (level) => typeof logger[level] === 'function' && isLevelEnabled.call(logger, level) !== false
    : (level) => typeof logger[level] === 'function';
}

/** How to write a line to `logger`, by its shape. */
function writerFor(logger: AnyLogger): { write: Write; enabled: (level: LogLevel) => boolean } {
  if (logger === consoleLogger || !(isPino(logger) || isWinston(logger))) {
    const own = logger === consoleLogger;
    return {
      enabled: (level) => typeof logger[level] === 'function',
      write(level, message, detail, fields) {
        const method = logger[level] as (...args: unknown[]) => void;
        // The default logger renders fields unmasked by the message rule; an app's console-style logger gets them in the text.
        if (own) method.call(logger, message, detail, fields);
        else {
          const rendered = fields === undefined ? '' : renderFields(fields);
          const text = rendered === '' ? message : `${message} [${rendered}]`;
          if (detail === undefined) method.call(logger, text);
          else method.call(logger, text, detail);
        }
      },
    };
  }
  const enabled = levelCheck(logger);
  if (isPino(logger))
    return {
      enabled,
      write(level, message, detail, fields) {
        const object = maskedFields(fields);
        if (detail !== undefined) object.err = loggableError(detail);
        (logger[level] as (object: unknown, message: string) => void).call(logger, object, maskTokens(message));
      },
    };
  return {
    enabled,
    write(level, message, detail, fields) {
      const info: Record<string, unknown> = { ...maskedFields(fields), level, message: maskTokens(message) };
      if (detail !== undefined) info.err = serializedError(detail);
      (logger.log as (info: unknown) => void).call(logger, info);
    },
  };
}

/**
 * The {@link Log} for what an app passed as `logger`: its shape detected (console-style,
 * pino, winston), each line also published on {@link LOG_CHANNEL}. Given a {@link Log} it made,
 * returns it as it is.
 */
export function resolveLogger(logger: Logger): Log {
  if ((logger as Partial<Record<typeof RESOLVED, true>>)[RESOLVED]) return logger as unknown as Log;
  const { write, enabled } = writerFor(logger as AnyLogger);
  const line =
    (level: LogLevel) =>
    (message: string, detail?: unknown, fields?: LogFields): void => {
      if (!enabled(level)) return;
      if (channel.hasSubscribers) channel.publish({ level, message, detail, fields } satisfies LogEvent);
      write(level, message, detail, fields);
    };
  const log: Log & Record<typeof RESOLVED, true> = {
    [RESOLVED]: true,
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    enabled,
  };
  return log;
}
