// Writes given in one tick (one burst of microtasks) go out together: one command for the
// client library to build, send and parse instead of one per write, and no wait for a
// later turn of the event loop (ioredis's auto-pipelining waits a setImmediate, which a
// lone call pays in latency). A burst is cut into chunks of at most `max` so that under
// load the caller and the server work in parallel on different chunks instead of passing
// one big batch back and forth in lockstep.

interface Waiting<T> {
  readonly item: T;
  /** Called once the write succeeded (no argument) or failed. */
  readonly done: (error?: Error) => void;
}

export class Burst<T> {
  private waiting: Waiting<T>[] = [];

  constructor(
    private readonly send: (items: T[]) => Promise<unknown>,
    private readonly max: number,
    /** Around sending a burst's chunks, e.g. corking the socket so they leave in one write. */
    private readonly around?: { before(): void; after(): void },
  ) {}

  add(item: T, done: (error?: Error) => void): void {
    if (this.waiting.length === 0) process.nextTick(() => this.flush());
    this.waiting.push({ item, done });
  }

  /** Sends what waits now instead of at the end of the tick. */
  flush(): void {
    const all = this.waiting;
    if (all.length === 0) return;
    this.waiting = [];
    // One chunk is one write anyway: corking it only costs (a cold µs or more at low rates).
    if (all.length <= this.max || !this.around) return this.sendChunks(all);
    this.around.before();
    try {
      this.sendChunks(all);
    } finally {
      this.around.after();
    }
  }

  private sendChunks(all: Waiting<T>[]): void {
    for (let i = 0; i < all.length; i += this.max) {
      const chunk = all.length <= this.max ? all : all.slice(i, i + this.max);
      let sent: Promise<unknown>;
      try {
        sent = this.send(chunk.map((w) => w.item));
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        () => chunk.forEach((w) => w.done()),
        (error: Error) => chunk.forEach((w) => w.done(error)),
      );
    }
  }
}
