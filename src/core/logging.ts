/**
 * Logging: the {@link Logger} interface, the default {@link consoleLogger}, and the
 * diagnostics channel. Every log line of a server is also published on the `diagnostics_channel` named
 * {@link LOG_CHANNEL}, whatever logger the app configured: a hook for APM tools and for
 * tests that check logs for leaked secrets. Publishing costs nothing without subscribers.
 *
 * @example
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('tokengate:log', ({ level, message }) => metrics.increment(`tokengate.${level}`));
 * ```
 * @packageDocumentation
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { maskTokens, safeDetail } from './redact';

/** Where log lines go. Never given a token, secret, code or password. */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** The default {@link Logger}: `console`, each line prefixed with `[tokengate]`. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[tokengate] ${maskTokens(message)}`),
  // The detail is an Error from a store, a hook or a bug. Only its name, code and message are
  // printed (token-shaped parts masked): a stack or a driver's extra fields can quote the
  // values it was called with. Pass your own logger to get the Error itself.
  error: (message, detail) =>
    console.error(`[tokengate] ${maskTokens(message)}${detail === undefined ? '' : ` (${safeDetail(detail)})`}`),
};

/** The name of the channel log lines are published on. */
export const LOG_CHANNEL = 'tokengate:log';

/** What is published for each log line. */
export interface LogEvent {
  level: 'warn' | 'error';
  message: string;
  detail: unknown;
}

const channel = diagnosticsChannel.channel(LOG_CHANNEL);

/** `logger`, with each line also published on {@link LOG_CHANNEL}. */
export function publishingLogger(logger: Logger): Logger {
  return {
    warn(message, detail) {
      if (channel.hasSubscribers) channel.publish({ level: 'warn', message, detail } satisfies LogEvent);
      logger.warn(message, detail);
    },
    error(message, detail) {
      if (channel.hasSubscribers) channel.publish({ level: 'error', message, detail } satisfies LogEvent);
      logger.error(message, detail);
    },
  };
}
