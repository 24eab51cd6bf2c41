// The one outbound HTTP helper: JSON requests over Node's global fetch (undici), bounded
// in time and in the size of the reply read. It never throws for an HTTP status; callers
// decide what a status means. Network failures reject with SY_ERR_HTTP_CALL naming the
// method, the URL (credentials redacted) and the cause's code (ECONNREFUSED, ...).
//
// The reply is read up to `maxResponseBytes` and the rest discarded (the stream is
// cancelled): callers send to URLs a peer chose (callback URLs, response hooks), and such a
// peer must not be able to make us buffer a reply of any size.

import { errors } from '../../errors.js';

export interface HttpCallOptions {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Sent as JSON with content-type application/json. */
  readonly json?: unknown;
  /** Sent as it is (with content-type application/json unless headers say otherwise); ignored when `json` is given. */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whole request, body included; default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Most bytes of the reply body read; the rest is discarded and `truncated` set. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/** Default cap on a reply body read by httpCall. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface HttpCallResult {
  readonly status: number;
  readonly text: string;
  /** True when the body was longer than maxResponseBytes: `text` holds its start only. */
  readonly truncated: boolean;
  /** The body parsed as JSON, or undefined when it is not JSON (or truncated). */
  json(): unknown;
}

/**
 * What httpCall throws when no answer came: SY_ERR_HTTP_CALL from the catalogue, with
 * `reason`, a short code for the cause (ECONNREFUSED, ETIMEDOUT, ABORTED, ...) for callers
 * that act on it or show it in a message of their own.
 */
export type HttpCallFailure = InstanceType<typeof errors.SY_ERR_HTTP_CALL> & { readonly reason: string };

/** The short cause of an httpCall failure (ECONNREFUSED, ...), or the message of anything else. */
export function httpFailureReason(err: unknown): string {
  const reason = (err as Partial<HttpCallFailure> | undefined)?.reason;
  return typeof reason === 'string' ? reason : err instanceof Error ? err.message : String(err);
}

function causeCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const inner = (e as { cause?: unknown; errors?: unknown[] }).cause ?? (e as { errors?: unknown[] }).errors?.[0];
    e = inner;
  }
  const name = (err as { name?: unknown })?.name;
  if (name === 'TimeoutError') return 'ETIMEDOUT';
  if (name === 'AbortError') return 'ABORTED';
  return 'ENETWORK';
}

/** AbortSignal.any (Node ≥ 20.3) by hand, with its listeners removed once the call is over. */
function anySignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  const onA = () => c.abort(a.reason);
  const onB = () => c.abort(b.reason);
  if (a.aborted) onA();
  else if (b.aborted) onB();
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: c.signal,
    dispose: () => {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}

export async function httpCall(url: string, options: HttpCallOptions): Promise<HttpCallResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const combined = options.signal ? anySignal(timeout, options.signal) : undefined;
  const signal = combined?.signal ?? timeout;
  const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
  let response: Response;
  let read: { text: string; truncated: boolean };
  try {
    response = await fetch(url, {
      method: options.method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), accept: 'application/json', ...options.headers },
      ...(body !== undefined ? { body } : {}),
      signal,
    });
    read = await readBounded(response, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  } catch (err) {
    const code = options.signal?.aborted ? 'ABORTED' : timeout.aborted ? 'ETIMEDOUT' : causeCode(err);
    const reason = code === 'ETIMEDOUT' ? `no answer within ${options.timeoutMs ?? 10_000} ms` : code;
    throw Object.assign(new errors.SY_ERR_HTTP_CALL(options.method, url, reason), { reason }) as HttpCallFailure;
  } finally {
    combined?.dispose();
  }
  const { text, truncated } = read;
  return {
    status: response.status,
    text,
    truncated,
    json: () => {
      if (truncated) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Reads at most `max` bytes of a reply body as UTF-8 and cancels the stream past that, so
 * the rest is never buffered (undici stops reading from the socket).
 */
async function readBounded(response: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      size = max;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks, size).toString('utf8'), truncated };
}
