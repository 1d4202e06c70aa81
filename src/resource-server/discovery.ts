/**
 * Talking to the issuer over HTTP: a JSON fetch with a timeout, and the issuer's RFC 8414
 * metadata, fetched once and refetched only after a failure.
 * @packageDocumentation
 */
import { metadataUrl } from '../endpoints/metadata';

/** A JSON response. */
export interface JsonResponse {
  status: number;
  body: unknown;
}

/**
 * Fetch `url` and parse its JSON body. Rejects (with the network error or a description of
 * the bad response as `cause`) when the server is unreachable, slow or answers non-JSON.
 */
export async function fetchJson(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number }): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { Accept: 'application/json', ...init.headers },
    body: init.body,
    redirect: 'error',
    signal: AbortSignal.timeout(init.timeoutMs),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${response.status} with a body that is not JSON.`);
  }
  return { status: response.status, body };
}

/** The members of an issuer's metadata a resource server uses. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  [member: string]: unknown;
}

/** The metadata of one issuer, fetched from where RFC 8414 §3.1 puts it. */
export class IssuerDiscovery {
  private pending: Promise<IssuerMetadata> | undefined;
  /** Where the metadata document is fetched from. */
  readonly url: string;

  constructor(
    private readonly issuer: string,
    private readonly timeoutMs: number,
  ) {
    this.url = metadataUrl(issuer);
  }

  /** The metadata; concurrent callers share one fetch, and a failed fetch is retried by the next call. */
  get(): Promise<IssuerMetadata> {
    if (this.pending === undefined) {
      const pending = this.load();
      this.pending = pending;
      pending.catch(() => {
        if (this.pending === pending) this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** Forget the metadata, e.g. when an endpoint it named stopped answering. */
  invalidate(): void {
    this.pending = undefined;
  }

  private async load(): Promise<IssuerMetadata> {
    const { status, body } = await fetchJson(this.url, { timeoutMs: this.timeoutMs });
    if (status !== 200 || body === null || typeof body !== 'object') throw new Error(`${this.url} answered ${status}, not a metadata document.`);
    const metadata = body as IssuerMetadata;
    // RFC 8414 §3.3: the issuer in the document MUST be identical to the one it was fetched for,
    // or an attacker's metadata could stand in for the real issuer's.
    if (metadata.issuer !== this.issuer) throw new Error(`${this.url} names issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(this.issuer)} (RFC 8414 §3.3).`);
    return metadata;
  }
}
