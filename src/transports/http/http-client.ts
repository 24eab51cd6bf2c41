// The one outbound HTTP helper: JSON requests over Node's global fetch (undici), bounded
// in time. It never throws for an HTTP status; callers decide what a status means.
// Network failures reject with the cause's code (ECONNREFUSED, ...) in the message.

export interface HttpCallOptions {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Sent as JSON with content-type application/json. */
  readonly json?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whole request, body included; default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface HttpCallResult {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json(): unknown;
}

export class HttpCallError extends Error {
  /** A short code for the cause: ECONNREFUSED, ETIMEDOUT, ABORTED, ... */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'HttpCallError';
    this.code = code;
  }
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
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: options.method,
      headers: { ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), accept: 'application/json', ...options.headers },
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
      signal,
    });
    text = await response.text();
  } catch (err) {
    const code = options.signal?.aborted ? 'ABORTED' : timeout.aborted ? 'ETIMEDOUT' : causeCode(err);
    throw new HttpCallError(code, code === 'ETIMEDOUT' ? `no answer within ${options.timeoutMs ?? 10_000} ms` : code);
  } finally {
    combined?.dispose();
  }
  return {
    status: response.status,
    text,
    json: () => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}
