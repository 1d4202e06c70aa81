/**
 * OpenTelemetry (issue #17) with the real SDK and its in-memory exporters: a span per token,
 * revocation and introspection request, a child of the app's span, with grant type, client id
 * and outcome; counters of tokens issued by grant and of failures by error code; a duration
 * histogram. Without an SDK the API is a no-op, and without the API package nothing changes.
 */
import { context, metrics, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { basic, buildApp, CLIENTS, FRAMEWORKS, ISSUER, recordingLogger, USERS, type Framework } from '../support/spine';

const TOKEN = '/oauth/token';

/** A reader the test collects from when it wants (the SDK's own base class, no exporter). */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
let reader: TestReader;

function useMeter(): TestReader {
  metrics.disable();
  const fresh = new TestReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [fresh] }));
  return fresh;
}

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
});
afterAll(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});
beforeEach(() => {
  spans.reset();
  reader = useMeter();
});

/** The data points of metric `name`, as `attributes → value`. */
async function points(name: string, from = reader): Promise<DataPoint<number | Histogram>[]> {
  const { resourceMetrics } = await from.collect();
  const metric = resourceMetrics.scopeMetrics
    .filter((s) => s.scope.name === 'tokengate')
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
}

/** An app whose every request runs inside an `HTTP` span, as an HTTP instrumentation would make it. */
function tracedApp(framework: Framework) {
  const tracer = trace.getTracer('test-http');
  return buildApp(framework, {}, undefined, (app) =>
    app.use((req: unknown, res: { on(e: string, f: () => void): void }, next: () => void) =>
      tracer.startActiveSpan('HTTP', (span: Span) => {
        res.on('finish', () => span.end());
        next();
      }),
    ),
  );
}

const clientCredentials = (app: Parameters<typeof request>[0], secret = 'web-secret') =>
  request(app)
    .post(TOKEN)
    .set('Authorization', basic('web-app', secret))
    .type('form')
    .send({ grant_type: 'client_credentials', scope: 'read' });

describe.each(FRAMEWORKS)('spans under %s', (framework) => {
  test('a token request is a tokengate.token span under the app’s HTTP span, with grant type, client id and outcome', async () => {
    const { app } = tracedApp(framework);
    expect((await clientCredentials(app)).status).toBe(200);
    const finished = spans.getFinishedSpans();
    const span = finished.find((s) => s.name === 'tokengate.token');
    const http = finished.find((s) => s.name === 'HTTP');
    expect(span?.attributes).toEqual({
      'tokengate.endpoint': 'token',
      'tokengate.client_id': 'web-app',
      'tokengate.grant_type': 'client_credentials',
      'http.response.status_code': 200,
      'tokengate.outcome': 'success',
    });
    expect(span?.parentSpanContext?.spanId).toBe(http?.spanContext().spanId);
    expect(span?.spanContext().traceId).toBe(http?.spanContext().traceId);
  });
});

describe('spans', () => {
  test('a refused request carries the OAuth error as error.type; only a 5xx marks the span as an error', async () => {
    const { app } = tracedApp('express5');
    expect((await clientCredentials(app, 'wrong-secret')).status).toBe(401);
    expect(
      (
        await request(app)
          .post('/oauth/revoke')
          .set('Authorization', basic('web-app', 'web-secret'))
          .type('form')
          .send({ token: 'whatever' })
      ).status,
    ).toBe(200);
    const [token, revocation] = spans.getFinishedSpans().filter((s) => s.name.startsWith('tokengate.'));
    expect(token?.attributes).toMatchObject({
      'tokengate.outcome': 'invalid_client',
      'error.type': 'invalid_client',
      'http.response.status_code': 401,
    });
    expect(token?.attributes['tokengate.client_id']).toBeUndefined(); // never authenticated
    expect(token?.status.code).toBe(0); // UNSET: the client's mistake, not the server's
    expect(revocation?.name).toBe('tokengate.revocation');
    expect(revocation?.attributes).toMatchObject({ 'tokengate.client_id': 'web-app', 'tokengate.outcome': 'success' });
  });

  test('no token or secret in any span attribute', async () => {
    const { app } = tracedApp('express5');
    const res = await clientCredentials(app);
    await clientCredentials(app, 'wrong-secret');
    const text = JSON.stringify(spans.getFinishedSpans().map((s) => s.attributes));
    for (const secret of [res.body.access_token, 'web-secret', 'wrong-secret']) expect(text).not.toContain(secret);
  });
});

describe('metrics', () => {
  test('tokens issued by grant, failures by endpoint and error code, request durations by outcome', async () => {
    const { app } = buildApp('express5');
    await clientCredentials(app);
    await clientCredentials(app);
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
    await clientCredentials(app, 'wrong-secret');
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: 'unknown' });

    const issued = await points('tokengate.tokens.issued');
    expect(issued.map((p) => [p.attributes, p.value])).toEqual(
      expect.arrayContaining([
        [{ 'tokengate.grant_type': 'client_credentials' }, 2],
        [{ 'tokengate.grant_type': 'password' }, 1],
      ]),
    );
    expect(issued).toHaveLength(2);
    const failed = await points('tokengate.requests.failed');
    expect(failed.map((p) => [p.attributes, p.value])).toEqual(
      expect.arrayContaining([
        [{ 'tokengate.endpoint': 'token', 'error.type': 'invalid_client' }, 1],
        [{ 'tokengate.endpoint': 'token', 'error.type': 'invalid_grant' }, 1],
      ]),
    );
    const durations = await points('tokengate.request.duration');
    const count = (attributes: Record<string, string>) =>
      (durations.find((p) => JSON.stringify(p.attributes) === JSON.stringify(attributes))?.value as Histogram)?.count;
    expect(
      count({
        'tokengate.endpoint': 'token',
        'tokengate.outcome': 'success',
        'tokengate.grant_type': 'client_credentials',
      }),
    ).toBe(2);
    expect(count({ 'tokengate.endpoint': 'token', 'tokengate.outcome': 'invalid_client' })).toBe(1);
  });

  test('an SDK registered after the server was created is used (the metrics API has no proxy)', async () => {
    metrics.disable();
    const { app } = buildApp('express5');
    await clientCredentials(app); // no SDK yet: nothing to record into
    const late = useMeter();
    await clientCredentials(app);
    expect((await points('tokengate.tokens.issued', late)).map((p) => p.value)).toEqual([1]);
  });
});

describe('without an SDK, or without the API', () => {
  test('with the API but no SDK registered, requests are answered as usual and nothing is recorded', async () => {
    trace.disable();
    metrics.disable();
    try {
      const { app } = buildApp('express5');
      expect((await clientCredentials(app)).status).toBe(200);
      expect(spans.getFinishedSpans()).toEqual([]);
      expect(await points('tokengate.tokens.issued')).toEqual([]);
    } finally {
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    }
  });

  test('when @opentelemetry/api cannot be loaded (an optional peer), endpoints run unwrapped and tokens are issued', async () => {
    const handler = async (): Promise<void> => undefined;
    let traced: unknown;
    let oauth: import('../../src').OAuthServer | undefined;
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/api', () => {
        throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Telemetry } = require('../../src/observe/telemetry') as typeof import('../../src/observe/telemetry');
      traced = new Telemetry().traced('token', handler);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { oauthServer, memoryStores } = require('../../src') as typeof import('../../src');
      oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), {
        issuer: ISSUER,
        logger: recordingLogger(),
      });
    });
    jest.dontMock('@opentelemetry/api');
    expect(traced).toBe(handler);
    // The middleware alone, as a plain Node handler: the token path never calls next.
    expect((await clientCredentials(oauth as unknown as Parameters<typeof request>[0])).status).toBe(200);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
