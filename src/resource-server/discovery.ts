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

/** Largest response body read from the issuer (metadata, JWKS, introspection): 256 KiB. */
export const MAX_RESPONSE_BYTES = 256 * 1024;

/** The body of `response` as text, refusing (and cancelling) one larger than `maxBytes`. */
async function boundedText(url: string, response: Response, maxBytes: number): Promise<string> {
  const tooLarge = (): Error => new Error(`${url} answered with a body larger than ${maxBytes} bytes.`);
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Returning from the loop cancels the stream, so the rest is never downloaded.
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Fetch `url` and parse its JSON body. Bounded: the whole exchange (headers and body) within
 * `timeoutMs`, the body at most `maxBytes` (default {@link MAX_RESPONSE_BYTES}), and no
 * redirect followed at all, so a response cannot send us to another origin. Rejects (with the
 * network error or a description of the bad response as `cause`) when the server is
 * unreachable, slow, redirects, or answers too much or non-JSON.
 */
export async function fetchJson(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number; maxBytes?: number },
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { Accept: 'application/json', ...init.headers },
    body: init.body,
    redirect: 'error',
    signal: AbortSignal.timeout(init.timeoutMs),
  });
  const text = await boundedText(url, response, init.maxBytes ?? MAX_RESPONSE_BYTES);
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
    if (status !== 200 || body === null || typeof body !== 'object')
      throw new Error(`${this.url} answered ${status}, not a metadata document.`);
    const metadata = body as IssuerMetadata;
    // RFC 8414 §3.3: the issuer in the document MUST be identical to the one it was fetched for,
    // or an attacker's metadata could stand in for the real issuer's.
    if (metadata.issuer !== this.issuer)
      throw new Error(
        `${this.url} names issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(this.issuer)} (RFC 8414 §3.3).`,
      );
    return metadata;
  }
}
