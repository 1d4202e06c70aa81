/**
 * OpenTelemetry, through `@opentelemetry/api` when the app has it (an optional peer
 * dependency: every OpenTelemetry SDK brings it). The API is a no-op until the app registers an
 * SDK, so without one this costs a span object per token request and nothing else; without the
 * package, nothing at all.
 *
 * Spans: one per token, revocation and introspection request (`tokengate.token`...), a child of
 * the app's HTTP span, with the grant type, client id and outcome. Metrics (meter `tokengate`):
 * - `tokengate.tokens.issued` (counter), by `tokengate.grant_type`;
 * - `tokengate.requests.failed` (counter), by `tokengate.endpoint` and `error.type` (the OAuth error code);
 * - `tokengate.request.duration` (histogram, seconds), by `tokengate.endpoint`, `tokengate.grant_type` and `tokengate.outcome`.
 *
 * The API's types are described here structurally, so that the published declarations do not
 * need the package.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import type { Handler, Next, Request } from '../core/http';

type Attributes = Record<string, string | number | boolean>;

interface Span {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface Tracer {
  startSpan(name: string, options: { kind: number; attributes: Attributes }): Span;
}
interface Counter {
  add(value: number, attributes: Attributes): void;
}
interface Histogram {
  record(value: number, attributes: Attributes): void;
}
interface Meter {
  createCounter(name: string, options: { description: string; unit: string }): Counter;
  createHistogram(name: string, options: { description: string; unit: string }): Histogram;
}
interface OpenTelemetryApi {
  trace: { getTracer(name: string): Tracer; setSpan(context: unknown, span: Span): unknown };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  metrics: { getMeterProvider(): { getMeter(name: string): Meter } };
}

/** `@opentelemetry/api` if the app can load it; undefined otherwise (it is an optional peer). */
function loadApi(): OpenTelemetryApi | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer: loaded only if installed
    return require('@opentelemetry/api') as OpenTelemetryApi;
  } catch {
    return undefined;
  }
}

const SPAN_KIND_INTERNAL = 0;
const STATUS_ERROR = 2;

interface Instruments {
  issued: Counter;
  failed: Counter;
  duration: Histogram;
}

/** What the span of one request learns as it goes. */
interface RequestState {
  readonly span: Span;
  grantType?: string;
  error?: string;
}

/** One server's spans and metrics. Without `@opentelemetry/api`, every method does nothing. */
export class Telemetry {
  private readonly api: OpenTelemetryApi | undefined;
  private readonly tracer: Tracer | undefined;
  private provider: unknown;
  private instruments: Instruments | undefined;
  private readonly requests = new WeakMap<Request, RequestState>();

  /** @param api - the OpenTelemetry API; default: `@opentelemetry/api` if installed */
  constructor(api: OpenTelemetryApi | undefined = loadApi()) {
    this.api = api;
    this.tracer = api?.trace.getTracer('tokengate');
  }

  /**
   * The meter's instruments, made again when the app registers (another) meter provider: the
   * metrics API has no proxy, so instruments made before the SDK started would stay no-ops.
   */
  private meter(): Instruments | undefined {
    const api = this.api;
    if (!api) return undefined;
    const provider = api.metrics.getMeterProvider();
    if (provider !== this.provider) {
      this.provider = provider;
      const meter = provider.getMeter('tokengate');
      this.instruments = {
        issued: meter.createCounter('tokengate.tokens.issued', {
          description: 'Access tokens issued by the token endpoint, by grant type.',
          unit: '{token}',
        }),
        failed: meter.createCounter('tokengate.requests.failed', {
          description: 'Requests answered with an OAuth error, by endpoint and error code.',
          unit: '{request}',
        }),
        duration: meter.createHistogram('tokengate.request.duration', {
          description: 'Time to answer a token, revocation or introspection request.',
          unit: 's',
        }),
      };
    }
    return this.instruments;
  }

  /** `handler` of endpoint `name` with a span around each request, and its duration recorded. */
  traced(name: string, handler: Handler): Handler {
    const { api, tracer } = this;
    if (!api || !tracer) return handler;
    return async (req: Request, res: ServerResponse, next: Next) => {
      const started = performance.now();
      const span = tracer.startSpan(`tokengate.${name}`, {
        kind: SPAN_KIND_INTERNAL,
        attributes: { 'tokengate.endpoint': name },
      });
      const state: RequestState = { span };
      this.requests.set(req, state);
      try {
        // Active for the handler, so the spans of store calls (pg, ioredis instrumentations) are its children.
        await api.context.with(api.trace.setSpan(api.context.active(), span), () => handler(req, res, next));
      } finally {
        const outcome = state.error ?? (res.statusCode < 400 ? 'success' : `http_${res.statusCode}`);
        span.setAttribute('http.response.status_code', res.statusCode);
        span.setAttribute('tokengate.outcome', outcome);
        // A client's mistake (4xx) is an answered request, not a fault of this server.
        if (res.statusCode >= 500) span.setStatus({ code: STATUS_ERROR, message: outcome });
        span.end();
        const attributes: Attributes = { 'tokengate.endpoint': name, 'tokengate.outcome': outcome };
        if (state.grantType !== undefined) attributes['tokengate.grant_type'] = state.grantType;
        this.meter()?.duration.record((performance.now() - started) / 1000, attributes);
      }
    };
  }

  /** The request's client authenticated as `clientId` and asked for `grantType` (a grant the server has). */
  identified(req: Request, clientId: string, grantType: string | undefined): void {
    const state = this.requests.get(req);
    if (!state) return;
    state.span.setAttribute('tokengate.client_id', clientId);
    if (grantType !== undefined) {
      state.grantType = grantType;
      state.span.setAttribute('tokengate.grant_type', grantType);
    }
  }

  /** The token endpoint issued tokens with `grantType`. */
  issued(grantType: string): void {
    this.meter()?.issued.add(1, { 'tokengate.grant_type': grantType });
  }

  /** Endpoint `endpoint` answered error `code` (an OAuth error code, or `server_error`). */
  failed(req: Request, endpoint: string, code: string): void {
    const state = this.requests.get(req);
    if (state) {
      state.error = code;
      state.span.setAttribute('error.type', code);
    }
    this.meter()?.failed.add(1, { 'tokengate.endpoint': endpoint, 'error.type': code });
  }
}
