// The dead letters and queues of a state folder's embedded broker, from another process
// (`switchyard queues` / `dead-letters`): every call goes over the broker socket and the
// hosting process answers it with the MemoryDeadLetters of the transport it hosts, so
// there is one implementation of retry and discard, run where the queues live.

import { checkLimit, sourceQueueOf, type DeadLetter, type DeadLetterQueue, type DeadLetters, type PeekOptions } from '../../dead-letters.js';
import type { QueueInfo, QueueLook } from '../../queue-look.js';
import { deadLetterQueueOf } from '../../transport.js';
import type { SharedMemoryClient } from './client.js';

const SUFFIX = deadLetterQueueOf('');

export class BrokerDeadLetters implements DeadLetters, QueueLook {
  readonly transport = 'memory';

  /** Owns `client` (close() closes it). */
  constructor(private readonly client: SharedMemoryClient) {}

  queues(): Promise<DeadLetterQueue[]> {
    return this.client.deadLetterQueues();
  }

  peek(queue: string, options: PeekOptions = {}): Promise<DeadLetter[]> {
    return this.client.peekDeadLetters(sourceQueueOf(queue), checkLimit(options.limit));
  }

  async retry(queue: string, id: string): Promise<boolean> {
    return (await this.client.actOnDeadLetters('retry', sourceQueueOf(queue), id)) > 0;
  }

  retryAll(queue: string): Promise<number> {
    return this.client.actOnDeadLetters('retry', sourceQueueOf(queue), null);
  }

  async discard(queue: string, id: string): Promise<boolean> {
    return (await this.client.actOnDeadLetters('discard', sourceQueueOf(queue), id)) > 0;
  }

  discardAll(queue: string): Promise<number> {
    return this.client.actOnDeadLetters('discard', sourceQueueOf(queue), null);
  }

  /** Every queue of the broker (or those named), its dead-letter queue counted with it. */
  async listQueues(names?: readonly string[]): Promise<QueueInfo[]> {
    const all = new Map((await this.client.queues()).map((q) => [q.name, q]));
    const sources = names?.length ? names.map(sourceQueueOf) : [...new Set([...all.keys()].map(sourceQueueOf))].sort();
    return sources.map((queue) => {
      const q = all.get(queue);
      return {
        queue,
        depth: q?.depth ?? 0,
        ...(q?.consumers !== undefined ? { consumers: q.consumers } : {}),
        deadLetters: all.get(queue + SUFFIX)?.depth ?? 0,
      };
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
