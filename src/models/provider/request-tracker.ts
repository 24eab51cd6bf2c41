// The request tracker (SPECS.md §4.4): one response-hook socket per process, requests
// waiting on it by id, each with a timer. A response for an id nobody waits for is
// logged and dropped; stop() lets the waiting requests end (answered or timed out) first.

import { errors } from '../../errors.js';
import { listenResponses, unixUrl, type AcommResponse, type ExchangeListener } from '../../transports/unix/mod.js';
import type { Logger } from '../../observability/logger.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';

export interface TrackerOptions {
  /** The response-hook socket path. */
  readonly socketPath: string;
  /** Wait for a response when track() is given none; ≤ 0 means 1 minute, as in the original. */
  readonly defaultTimeoutMs?: number;
  readonly mode?: number;
  readonly maxFrameBytes?: number;
  readonly logger?: Logger;
  /** The unix transport's response listener (the registry's acomm facet). Default: transports/unix. */
  readonly listenResponses?: typeof listenResponses;
}

export interface Tracked {
  readonly response: AcommResponse;
  /** True when no response came in time (response.error is then "response timeout"). */
  readonly timedOut: boolean;
}

interface Waiter {
  resolve(t: Tracked): void;
  timer: NodeJS.Timeout;
}

export class RequestTracker {
  readonly socketPath: string;
  readonly url: string;
  readonly defaultTimeoutMs: number;
  private readonly waiting = new Map<string, Waiter>();
  private listener: ExchangeListener | undefined;
  private starting: Promise<void> | undefined;
  /** Responses nobody waits for are a peer's doing: their warnings are rate-limited. */
  private readonly peerWarn: WarnLimiter | undefined;

  constructor(private readonly options: TrackerOptions) {
    this.socketPath = options.socketPath;
    this.url = unixUrl(options.socketPath);
    this.defaultTimeoutMs = options.defaultTimeoutMs && options.defaultTimeoutMs > 0 ? options.defaultTimeoutMs : 60_000;
    this.peerWarn = options.logger ? warnLimiter(options.logger) : undefined;
  }

  get started(): boolean {
    return this.listener !== undefined;
  }

  /** Listens on the response-hook socket (replacing a stale one). */
  start(): Promise<void> {
    return (this.starting ??= (async () => {
      this.listener = await (this.options.listenResponses ?? listenResponses)({
        path: this.socketPath,
        ...(this.options.mode !== undefined ? { mode: this.options.mode } : {}),
        ...(this.options.maxFrameBytes !== undefined ? { maxFrameBytes: this.options.maxFrameBytes } : {}),
        onResponse: (r) => this.handleResponse(r),
        onError: (err) => this.options.logger?.debug({ err }, 'response hook connection failed'),
      });
    })());
  }

  /** Waits for the response to request `id`. Throws if the tracker is not started or the id is already tracked. */
  track(id: string, timeoutMs = this.defaultTimeoutMs): Promise<Tracked> {
    if (!this.listener) throw new errors.SY_ERR_REQUEST_TRACKER('is not started; call start() first');
    if (this.waiting.has(id)) throw new errors.SY_ERR_REQUEST_TRACKER(`already waits for request id ${JSON.stringify(id.slice(0, 100))}; give every request an id of its own`);
    return new Promise<Tracked>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ response: { id, result: null, streamUrl: null, error: 'response timeout' }, timedOut: true });
      }, timeoutMs);
      this.waiting.set(id, { resolve, timer });
    });
  }

  /** Stops waiting for `id`; its track() promise never settles. */
  remove(id: string): void {
    const w = this.waiting.get(id);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(id);
  }

  handleResponse(response: AcommResponse): void {
    const w = this.waiting.get(response.id);
    if (!w) {
      this.peerWarn?.warn('untracked-response', { id: response.id.slice(0, 100) }, 'response does not have tracked request (answered late, twice, or never asked); dropped');
      return;
    }
    clearTimeout(w.timer);
    this.waiting.delete(response.id);
    w.resolve({ response, timedOut: false });
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** Waits until every tracked request was answered or timed out, then removes the socket. */
  async stop(): Promise<void> {
    while (this.waiting.size > 0) await new Promise((r) => setTimeout(r, 20));
    await this.listener?.close();
    this.peerWarn?.flush();
    this.listener = undefined;
    this.starting = undefined;
  }
}
