/**
 * Loggers (issue #17): pino and winston passed as they are, with the error's cause carried and
 * levels right; console-style loggers as before; the default console logger keeps the
 * identifiers an operator needs readable while masking what is secret.
 */
import { Writable } from 'node:stream';
import util from 'node:util';
import pino from 'pino';
import request from 'supertest';
import winston from 'winston';
import { memoryStores, type Logger, type UserStore } from '../../src';
import { consoleLogger, resolveLogger } from '../../src/core/logging';
import { basic, buildApp, CLIENTS, USERS } from '../support/spine';

const TOKEN = '/oauth/token';
const RELATION = 'tokengate_refresh_token_families_family_id_idx';

/** A stream that keeps each written line, parsed. */
function jsonLines(): { stream: Writable; lines: Record<string, unknown>[]; text: () => string } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return {
    stream,
    get lines() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join('\n'),
  };
}

/** A user store failing the way a careless driver does: the password in the message and in an extra field, a cause below. */
function failingUsers(): UserStore {
  return {
    async authenticate(username, password) {
      throw Object.assign(new Error(`relation "${RELATION}" does not exist (pw = '${password}')`), {
        code: '42P01',
        table: RELATION,
        parameters: [username, password],
        cause: Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }),
      });
    },
  };
}

function passwordRequest(app: Parameters<typeof request>[0], password = 'hunter2-hunter2') {
  return request(app)
    .post(TOKEN)
    .set('Authorization', basic('web-app', 'web-secret'))
    .type('form')
    .send({ grant_type: 'password', username: 'alice@example.com', password });
}

const stores = () => ({ ...memoryStores({ clients: CLIENTS, users: USERS }), users: failingUsers() });

describe('pino, passed as it is', () => {
  test('a server_error line: level 50, the message, err with type, message, code, stack and cause; secrets masked, extra fields dropped', async () => {
    const out = jsonLines();
    const { app } = buildApp('express5', { logger: pino({ level: 'info' }, out.stream) }, stores());
    expect((await passwordRequest(app)).status).toBe(500);
    const line = out.lines.find((l) => l.level === 50) as { msg: string; err: Record<string, unknown> };
    expect(line.msg).toBe('token endpoint: unexpected failure; answered server_error');
    expect(line.err).toMatchObject({
      type: 'Error',
      code: '42P01',
      table: RELATION,
      // The relation name stays readable; the request's password does not.
      message: expect.stringContaining(`relation "${RELATION}" does not exist (pw = '[redacted]'): connection reset`),
      stack: expect.stringMatching(/^Error: relation[\s\S]*\n {4}at [\s\S]*caused by: Error: connection reset/),
    });
    expect(line.err.parameters).toBeUndefined();
    expect(out.text()).not.toContain('hunter2-hunter2');
  });

  test('levels: the start-up warning at 40, a failed client authentication at 30 with its fields, token.issued at 20 only when debug is on', async () => {
    const debug = jsonLines();
    const { app } = buildApp('express5', { logger: pino({ level: 'debug' }, debug.stream) });
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'wrong'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    const ok = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    const byLevel = (level: number) => debug.lines.filter((l) => l.level === level);
    expect(byLevel(40).map((l) => l.msg)).toEqual([expect.stringMatching(/^No signing keys configured/)]);
    expect(byLevel(30)).toEqual([
      expect.objectContaining({
        msg: 'client authentication failed',
        event: 'client.authentication_failed',
        endpoint: 'token',
        clientId: 'web-app',
        method: 'client_secret_basic',
        reason: 'invalid_credentials',
      }),
    ]);
    expect(byLevel(20)).toEqual([
      expect.objectContaining({
        msg: 'token issued',
        grantType: 'client_credentials',
        clientId: 'web-app',
        subject: 'web-app',
      }),
    ]);
    expect(debug.text()).not.toContain(ok.body.access_token);
    expect(debug.text()).not.toContain('web-secret');

    const info = jsonLines();
    const quiet = buildApp('express5', { logger: pino({ level: 'info' }, info.stream) }).app;
    await request(quiet)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(info.lines.filter((l) => (l.level as number) < 30)).toEqual([]);
  });

  test('a child logger is recognised too', async () => {
    const out = jsonLines();
    const { app } = buildApp(
      'express5',
      { logger: pino({ level: 'info' }, out.stream).child({ service: 'auth' }) },
      stores(),
    );
    await passwordRequest(app);
    expect(out.lines.find((l) => l.level === 50)).toMatchObject({ service: 'auth', err: { code: '42P01' } });
  });
});

describe('winston, passed as it is', () => {
  test('JSON lines with level names, the fields, and err as pino shapes it', async () => {
    const out = jsonLines();
    const logger = winston.createLogger({
      level: 'info',
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: out.stream })],
    });
    const { app } = buildApp('express5', { logger }, stores());
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'wrong'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    await passwordRequest(app);
    await new Promise((resolve) => setImmediate(resolve));
    // The start-up warning (no keys), the failed authentication, the password grant's warning, the store failure.
    expect(out.lines.map((l) => l.level)).toEqual(['warn', 'info', 'warn', 'error']);
    expect(out.lines[1]).toMatchObject({
      message: 'client authentication failed',
      clientId: 'web-app',
      reason: 'invalid_credentials',
    });
    expect(out.lines[3]).toMatchObject({
      message: 'token endpoint: unexpected failure; answered server_error',
      err: { type: 'Error', code: '42P01', cause: { message: 'connection reset', code: 'ECONNRESET' } },
    });
    expect(out.text()).not.toContain('hunter2-hunter2');
    expect(out.text()).not.toContain('parameters');
  });
});

describe('console-style loggers', () => {
  test('are called as before: (message) or (message, the Error itself); info and debug only if they have them', () => {
    const calls: unknown[][] = [];
    const logger = {
      warn: (...args: unknown[]) => void calls.push(['warn', ...args]),
      error: (...args: unknown[]) => void calls.push(['error', ...args]),
      info: (...args: unknown[]) => void calls.push(['info', ...args]),
    };
    const log = resolveLogger(logger);
    const err = new Error('boom');
    log.warn('careful');
    log.error('failed', err);
    log.info('noted', undefined, { clientId: 'web-app', reason: 'unknown client' });
    log.debug('dropped: no debug method');
    expect(calls).toEqual([
      ['warn', 'careful'],
      ['error', 'failed', err],
      ['info', 'noted [clientId=web-app reason="unknown client"]'],
    ]);
    expect(log.enabled('debug')).toBe(false);
    expect(resolveLogger(log as unknown as Logger)).toBe(log);
  });

  test('the default console logger prints warnings and errors only, with identifiers readable and secrets masked', async () => {
    const lines: string[] = [];
    const spies = (['error', 'warn', 'info', 'debug', 'log'] as const).map((m) =>
      jest
        .spyOn(console, m)
        .mockImplementation((...args: unknown[]) => void lines.push(`${m}: ${util.format(...args)}`)),
    );
    try {
      const { app } = buildApp('express5', { logger: undefined }, stores());
      expect((await passwordRequest(app)).status).toBe(500);
      const log = resolveLogger(consoleLogger);
      log.info('not printed', undefined, { clientId: 'web-app' });
      log.warn('refresh token replayed', undefined, {
        clientId: 'tgc_Q2xpZW50SWRGcm9tUmVnaXN0cg',
        familyId: 'gT5k2hXb0LqN8vRz1Yc3Aw',
      });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(lines).toEqual([
      expect.stringMatching(/^warn: \[tokengate\] No signing keys configured/),
      expect.stringMatching(/^warn: \[tokengate\] The client "web-app" uses the password grant/),
      `error: [tokengate] token endpoint: unexpected failure; answered server_error (Error [42P01]: relation "${RELATION}" does not exist (pw = '[redacted]'); caused by Error [ECONNRESET]: connection reset)`,
      'warn: [tokengate] refresh token replayed [clientId=tgc_Q2xpZW50SWRGcm9tUmVnaXN0cg familyId=gT5k2hXb0LqN8vRz1Yc3Aw]',
    ]);
  });
});
