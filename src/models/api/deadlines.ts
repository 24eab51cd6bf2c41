// Time limits for many short operations (event fires) without a timer each: one sweep
// timer, running only while something waits, fails whatever passed its deadline. A fire
// normally settles in well under a millisecond, so a timer and a race per fire would cost
// more than the fire itself.

const SWEEP_MS = 50;

interface Waiting {
  readonly deadline: number;
  readonly fail: () => void;
}

export class DeadlineTracker {
  private readonly waiting = new Set<Waiting>();
  private timer: NodeJS.Timeout | undefined;

  /** Resolves or rejects as `work` does, or rejects with `timeoutError()` after about `ms`. */
  within<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = { deadline: Date.now() + ms, fail: () => reject(timeoutError()) };
      this.waiting.add(entry);
      this.timer ??= setInterval(() => this.sweep(), Math.min(SWEEP_MS, ms)).unref();
      work.then(
        (value) => {
          this.waiting.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(entry);
          reject(error);
        },
      );
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.waiting) {
      if (entry.deadline <= now) {
        this.waiting.delete(entry);
        entry.fail();
      }
    }
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
