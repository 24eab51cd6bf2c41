// One write per burst: commands issued in the same tick go out together in one pipeline,
// a lone command goes out as itself, without auto-pipelining's setImmediate hop. RPC calls
// and results are latency-bound at concurrency 1 and syscall-bound under load; this serves
// both (on these machines a socket write is the largest part of a call's cost).

import type { Redis } from 'ioredis';
import { withBusScripts, type BusScripts } from './scripts.js';

type Op = { name: 'busCall'; args: [string, string, number, string] } | { name: 'busResult'; args: [string, string, number] };
interface Pending {
  op: Op;
  resolve(): void;
  reject(error: Error): void;
}

export class WriteBatcher {
  private readonly redis: Redis & BusScripts;
  private queue: Pending[] = [];

  constructor(redis: Redis) {
    this.redis = withBusScripts(redis);
  }

  call(expiryKey: string, queue: string, ttlS: number, blob: string): Promise<void> {
    return this.push({ name: 'busCall', args: [expiryKey, queue, ttlS, blob] });
  }

  result(key: string, blob: string, ttlS: number): Promise<void> {
    return this.push({ name: 'busResult', args: [key, blob, ttlS] });
  }

  private push(op: Op): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) process.nextTick(() => this.flush());
      this.queue.push({ op, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 1) {
      const [{ op, resolve, reject }] = batch as [Pending];
      const sent = op.name === 'busCall' ? this.redis.busCall(...op.args) : this.redis.busResult(...op.args);
      sent.then(() => resolve(), reject);
      return;
    }
    const pipe = this.redis.pipeline() as unknown as BusScripts & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const { op } of batch) {
      if (op.name === 'busCall') void pipe.busCall(...op.args);
      else void pipe.busResult(...op.args);
    }
    pipe.exec().then(
      (replies) => batch.forEach((p, i) => (replies?.[i]?.[0] ? p.reject(replies[i]![0]!) : p.resolve())),
      (error: Error) => batch.forEach((p) => p.reject(error)),
    );
  }
}
