// One write per burst: calls (or results) issued in the same tick go out as one script
// call, a lone one as itself, without auto-pipelining's setImmediate hop. RPC calls
// and results are latency-bound at concurrency 1 and syscall-bound under load; this serves
// both (on these machines a socket write is the largest part of a call's cost).

import type { Redis } from 'ioredis';
import { withBusScripts, type BusScripts } from './scripts.js';

type Op = { name: 'busCall'; args: [string, string, number, string] } | { name: 'busResult'; args: [string, string, number, '0' | '1'] };
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

  /** `publish`: the key names a caller of ours, who also listens on the channel of that name. */
  result(key: string, blob: string, ttlS: number, publish: boolean): Promise<void> {
    return this.push({ name: 'busResult', args: [key, blob, ttlS, publish ? '1' : '0'] });
  }

  private push(op: Op): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) process.nextTick(() => this.flush());
      this.queue.push({ op, resolve, reject });
    });
  }

  private send(batch: Pending[], script: 'busCalls' | 'busResults'): void {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const { op } of batch) {
      if (op.name === 'busCall') {
        keys.push(op.args[0], op.args[1]);
        args.push(op.args[2], op.args[3]);
      } else {
        keys.push(op.args[0]);
        args.push(op.args[1], op.args[2], op.args[3]);
      }
    }
    this.redis[script](keys.length, ...keys, ...args).then(
      () => batch.forEach((p) => p.resolve()),
      (error: Error) => batch.forEach((p) => p.reject(error)),
    );
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
    // A burst is one script call: far fewer commands for the client library to build,
    // send and parse than one per call. Calls and results never share a batch's script.
    const calls = batch.filter((p) => p.op.name === 'busCall');
    const results = batch.filter((p) => p.op.name === 'busResult');
    if (calls.length > 0) this.send(calls, 'busCalls');
    if (results.length > 0) this.send(results, 'busResults');
  }
}
