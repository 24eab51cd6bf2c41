// Commands issued in one burst of microtasks go out as one pipeline: one write instead of
// one per command, and no wait for a later turn of the event loop (ioredis's
// auto-pipelining waits a setImmediate, which one call at a time pays in latency).

import type { ChainableCommander, Redis } from 'ioredis';

type Adder = (pipeline: ChainableCommander) => void;

export class MicroBatch {
  private adders: Adder[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void; from: number; to: number }> = [];
  private count = 0;
  private scheduled = false;

  constructor(private readonly redis: () => Redis) {}

  /** Runs the commands `add` puts on the pipeline; resolves once all of them succeeded. */
  run(commands: number, add: Adder): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.adders.push(add);
      this.waiters.push({ resolve, reject, from: this.count, to: this.count + commands });
      this.count += commands;
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    const adders = this.adders;
    const waiters = this.waiters;
    this.adders = [];
    this.waiters = [];
    this.count = 0;
    this.scheduled = false;
    let pipeline: ChainableCommander;
    try {
      pipeline = this.redis().pipeline();
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const add of adders) add(pipeline);
    pipeline.exec().then(
      (results) => {
        for (const w of waiters) {
          const failed = results ? results.slice(w.from, w.to).find(([err]) => err)?.[0] : new Error('the pipeline was discarded');
          if (failed) w.reject(failed);
          else w.resolve();
        }
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
