// THE batcher of Redis writes: writes given within one burst go out together, one command
// or pipeline for the client library to build, send and parse instead of one per write.
// Used for request and reply pushes, RPC calls and results, and stream acks.
//
// - When a burst ends: 'tick' (process.nextTick: the writes of the current run of
//   callbacks and their microtasks; no wait for a later turn of the event loop, which
//   ioredis's auto-pipelining costs a lone call in latency), or 'turn' (setImmediate: the
//   writes of a whole turn, e.g. the acks of every handler that finished in it).
// - A burst is cut into chunks of at most `max` so that under load the caller and the
//   server work in parallel on different chunks instead of passing one big batch back
//   and forth in lockstep; `around` wraps the chunks of a burst (e.g. corks the socket so
//   that they leave in one write).
// - `send` answers for a chunk as a whole (resolves or rejects), or per write: resolving
//   with an array that holds each write's error (or nothing), so that one write a peer
//   made fail (a reply to a key of another type, say) fails alone.

export type ItemErrors = ReadonlyArray<Error | null | undefined>;

export interface BatcherOptions {
  /** Most writes in one send (default: no limit). */
  readonly max?: number;
  /** When a burst ends (default 'tick'). */
  readonly when?: 'tick' | 'turn';
  /** Around sending a burst's chunks, e.g. corking the socket so they leave in one write. */
  readonly around?: { before(): void; after(): void };
}

interface Waiting<T> {
  readonly item: T;
  /** Called once the write succeeded (no argument) or failed. */
  readonly done: (error?: Error) => void;
}

export class Batcher<T> {
  private waiting: Waiting<T>[] = [];
  private readonly max: number;
  private readonly schedule: (fn: () => void) => void;
  private readonly flushNow = () => this.flush();

  constructor(
    private readonly send: (items: T[]) => Promise<ItemErrors | void>,
    private readonly options: BatcherOptions = {},
  ) {
    this.max = options.max ?? Number.POSITIVE_INFINITY;
    this.schedule = options.when === 'turn' ? (fn) => void setImmediate(fn) : (fn) => process.nextTick(fn);
  }

  /** Queues a write; `done` is called once it succeeded (no argument) or failed. */
  add(item: T, done: (error?: Error) => void): void {
    if (this.waiting.length === 0) this.schedule(this.flushNow);
    this.waiting.push({ item, done });
  }

  /** add(), as a promise. */
  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => this.add(item, (error) => (error ? reject(error) : resolve())));
  }

  /** Sends what waits now instead of at the end of the burst. */
  flush(): void {
    const all = this.waiting;
    if (all.length === 0) return;
    this.waiting = [];
    // One chunk is one write anyway: corking it only costs (a cold µs or more at low rates).
    const around = this.options.around;
    if (all.length <= this.max || !around) return this.sendChunks(all);
    around.before();
    try {
      this.sendChunks(all);
    } finally {
      around.after();
    }
  }

  private sendChunks(all: Waiting<T>[]): void {
    for (let i = 0; i < all.length; i += this.max) {
      const chunk = all.length <= this.max ? all : all.slice(i, i + this.max);
      let sent: Promise<ItemErrors | void>;
      try {
        sent = this.send(chunk.map((w) => w.item));
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (errors) => {
          if (!errors) for (const w of chunk) w.done();
          else chunk.forEach((w, j) => w.done(errors[j] ?? undefined));
        },
        (error: unknown) => {
          const failed = error instanceof Error ? error : new Error(String(error));
          for (const w of chunk) w.done(failed);
        },
      );
    }
  }
}

/** The per-write errors of a pipeline's results (ioredis: [error, result] per command, in order; null when discarded). */
export function pipelineErrors(results: Array<[Error | null, unknown]> | null, count: number): ItemErrors {
  if (!results) return Array.from({ length: count }, () => new Error('the pipeline was discarded'));
  return results.map(([error]) => error ?? undefined);
}
