// Dead letters of the memory transport: its dead-letter queues are ordinary in-process
// queues, read without taking (peek), and a retry moves one message from there to the end
// of its source queue in one synchronous step (it is never in both, nor in neither).

import {
  checkLimit, fingerprint, readDeadLetter, retryHeaders, sourceQueueOf,
  type DeadLetter, type DeadLetterQueue, type DeadLetters, type PeekOptions,
} from '../dead-letters.js';
import { deadLetterQueueOf } from '../transport.js';
import type { StoredMessage } from './memory-queue.js';
import type { MemoryTransport } from './memory-transport.js';

const SUFFIX = deadLetterQueueOf('');

export class MemoryDeadLetters implements DeadLetters {
  readonly transport = 'memory';

  constructor(private readonly memory: MemoryTransport) {}

  async queues(): Promise<DeadLetterQueue[]> {
    return this.memory.queueNames()
      .filter((name) => name.endsWith(SUFFIX) && this.memory.depth(name) > 0)
      .sort()
      .map((name) => ({ queue: sourceQueueOf(name), deadLetterQueue: name, count: this.memory.depth(name) }));
  }

  async peek(queue: string, options: PeekOptions = {}): Promise<DeadLetter[]> {
    const limit = checkLimit(options.limit);
    const source = sourceQueueOf(queue);
    return this.memory.peek(deadLetterQueueOf(source)).slice(0, limit).map((m) => readDeadLetter(fingerprint(m.body, m.headers), source, m.body, m.headers));
  }

  async retry(queue: string, id: string): Promise<boolean> {
    const source = sourceQueueOf(queue);
    const message = this.find(source, id);
    return message !== undefined && this.moveBack(source, message);
  }

  async retryAll(queue: string): Promise<number> {
    const source = sourceQueueOf(queue);
    let n = 0;
    for (const message of this.memory.peek(deadLetterQueueOf(source))) if (this.moveBack(source, message)) n++;
    return n;
  }

  async discard(queue: string, id: string): Promise<boolean> {
    const source = sourceQueueOf(queue);
    const message = this.find(source, id);
    return message !== undefined && this.memory.takeWaiting(deadLetterQueueOf(source), message);
  }

  async discardAll(queue: string): Promise<number> {
    const dlq = deadLetterQueueOf(sourceQueueOf(queue));
    let n = 0;
    for (const message of this.memory.peek(dlq)) if (this.memory.takeWaiting(dlq, message)) n++;
    return n;
  }

  async close(): Promise<void> {}

  private find(source: string, id: string): StoredMessage | undefined {
    return this.memory.peek(deadLetterQueueOf(source)).find((m) => fingerprint(m.body, m.headers) === id);
  }

  private moveBack(source: string, message: StoredMessage): boolean {
    if (!this.memory.takeWaiting(deadLetterQueueOf(source), message)) return false;
    const letter = readDeadLetter('', source, message.body, message.headers);
    this.memory.putBack(letter.source, { body: message.body, headers: retryHeaders(message.headers) });
    return true;
  }
}
