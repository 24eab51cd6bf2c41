// The dead letters of a running process, through its dashboard's API: how the CLI reaches
// the memory transport (which lives inside that process) and any transport the process
// was given. Replies are read up to a bound (httpCall).

import { errors } from '../../errors.js';
import type { DeadLetterView } from '../../observability/dashboard/snapshot.js';
import type { DeadLetterQueue } from '../../transports/dead-letters.js';
import { httpCall } from '../../transports/http/http-client.js';

export interface DeadLetterTool {
  readonly transport: string;
  queues(): Promise<DeadLetterQueue[]>;
  peek(queue: string, limit: number): Promise<DeadLetterView[]>;
  retry(queue: string, id: string): Promise<boolean>;
  retryAll(queue: string): Promise<number>;
  discard(queue: string, id: string): Promise<boolean>;
  discardAll(queue: string): Promise<number>;
  close(): Promise<void>;
}

export class DashboardDeadLetters implements DeadLetterTool {
  constructor(
    private readonly url: string,
    readonly transport: string,
  ) {}

  async queues(): Promise<DeadLetterQueue[]> {
    const body = (await this.call('GET', '/api/dead-letters')) as { transports: string[]; queues: Array<DeadLetterQueue & { transport: string }> };
    if (!body.transports.includes(this.transport)) {
      throw new errors.SY_ERR_USAGE(`the dashboard at ${this.url} holds dead letters of ${body.transports.join(', ') || 'no transport'}, not ${this.transport}; pass --transport ${body.transports[0] ?? 'memory'}`);
    }
    return body.queues.filter((q) => q.transport === this.transport).map(({ queue, deadLetterQueue, count }) => ({ queue, deadLetterQueue, count }));
  }

  async peek(queue: string, limit: number): Promise<DeadLetterView[]> {
    return ((await this.call('GET', `${this.path(queue)}?limit=${limit}`)) as { letters: DeadLetterView[] }).letters;
  }

  async retry(queue: string, id: string): Promise<boolean> {
    return ((await this.call('POST', `${this.path(queue)}/retry`, { id }, true)) as { retried?: number }).retried === 1;
  }

  async retryAll(queue: string): Promise<number> {
    return ((await this.call('POST', `${this.path(queue)}/retry`, { all: true })) as { retried: number }).retried;
  }

  async discard(queue: string, id: string): Promise<boolean> {
    return ((await this.call('POST', `${this.path(queue)}/discard`, { id }, true)) as { discarded?: number }).discarded === 1;
  }

  async discardAll(queue: string): Promise<number> {
    return ((await this.call('POST', `${this.path(queue)}/discard`, { all: true })) as { discarded: number }).discarded;
  }

  async close(): Promise<void> {}

  private path(queue: string): string {
    return `/api/dead-letters/${encodeURIComponent(this.transport)}/${encodeURIComponent(queue)}`;
  }

  private async call(method: 'GET' | 'POST', path: string, json?: unknown, notFoundIsAnswer = false): Promise<unknown> {
    let res;
    try {
      res = await httpCall(`${this.url.replace(/\/$/, '')}${path}`, { method, ...(json !== undefined ? { json } : {}), timeoutMs: 30_000, maxResponseBytes: 16 * 1024 * 1024 });
    } catch (err) {
      throw new errors.SY_ERR_USAGE(`cannot reach the dashboard at ${this.url} (${(err as Error).message}); check that the process runs with its dashboard on that address`);
    }
    if (res.status === 404 && notFoundIsAnswer) return {};
    const body = res.json() as { error?: string } | undefined;
    if (res.status >= 400 || body === undefined) throw new errors.SY_ERR_USAGE(`the dashboard at ${this.url} answered ${res.status}: ${body?.error ?? res.text.slice(0, 200)}`);
    return body;
  }
}
