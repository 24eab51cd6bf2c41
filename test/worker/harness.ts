// A worker on the embedded default for tests: memory transport, fs store in a temp folder,
// configuration from an in-memory system map, a journal of what happened in order, and the
// events the workers reported on the observer stream.

import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSysMap, MapConfigSource } from '../../src/config/sysmap.js';
import { createLogger } from '../../src/observability/logger.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';
import type { ConsumeOptions, Delivery, DeliveryHandler, OutboundMessage, Subscription } from '../../src/transports/transport.js';
import { startWorker, type WorkerComponent, type WorkerDefinition } from '../../src/models/worker/mod.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';

/** Records sends and acks, in order, into a shared journal, and whether staging existed at each send. */
export class RecordingTransport extends MemoryTransport {
  stagingRoot: string | undefined;
  constructor(private readonly journal: string[]) {
    super();
  }
  override async send(queue: string, message: OutboundMessage): Promise<void> {
    await super.send(queue, message);
    const staged = this.stagingRoot && existsSync(this.stagingRoot) ? readdirSync(this.stagingRoot).length : 0;
    this.journal.push(`send ${queue} ${Buffer.from(message.body).toString()}${staged > 0 ? ' (staging present)' : ''}`);
  }
  override consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    const journal = this.journal;
    return super.consume(queue, (d) => {
      const recorded: Delivery = {
        get body() { return d.body; },
        get headers() { return d.headers; },
        get queue() { return d.queue; },
        get redelivered() { return d.redelivered; },
        get attempt() { return d.attempt; },
        ack: async () => {
          await d.ack();
          journal.push(`ack ${queue} ${Buffer.from(d.body).toString()}`);
        },
        nack: (options) => d.nack(options),
      };
      return handler(recorded);
    }, options);
  }
}

/** Records uploads; can be told to fail or slow down. */
export class RecordingStore extends FsObjectStore {
  failNext = 0;
  delayMs = 0;
  constructor(root: string, private readonly journal: string[]) {
    super({ root });
  }
  override async putFile(bucket: string, key: string, sourcePath: string): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0) {
      this.failNext--;
      this.journal.push(`upload-failed ${bucket}/${key}`);
      throw new Error(`injected upload failure for ${bucket}/${key}`);
    }
    await super.putFile(bucket, key, sourcePath);
    this.journal.push(`uploaded ${bucket}/${key}`);
  }
  override async putBytes(bucket: string, key: string, data: Uint8Array | string): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0) {
      this.failNext--;
      this.journal.push(`upload-failed ${bucket}/${key}`);
      throw new Error(`injected upload failure for ${bucket}/${key}`);
    }
    await super.putBytes(bucket, key, data);
    this.journal.push(`uploaded ${bucket}/${key}`);
  }
}

export interface Harness {
  readonly transport: RecordingTransport;
  readonly store: RecordingStore;
  readonly journal: string[];
  /** What the workers reported on the observer stream, in order. */
  readonly events: ObserverEvent[];
  readonly observer: Observer;
  readonly stagingRoot: string;
  start(definition: WorkerDefinition): Promise<WorkerComponent>;
  /** Bodies waiting in a queue, as text. */
  bodies(queue: string): string[];
  /** Waits until `check` is true (polling), or fails after ms. */
  until(check: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function harness(sysmapYaml: string, options: { stagingMemoryBytes?: number } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-worker-test-'));
  const journal: string[] = [];
  const events: ObserverEvent[] = [];
  const observer = new Observer();
  observer.listen((e) => void events.push(e));
  const transport = new RecordingTransport(journal);
  await transport.start();
  const store = new RecordingStore(join(dir, 'storage'), journal);
  const config = new MapConfigSource(parseSysMap(sysmapYaml, 'test sysmap'));
  const stagingRoot = join(dir, 'staging');
  transport.stagingRoot = stagingRoot;
  const workers: WorkerComponent[] = [];
  return {
    transport, store, journal, events, observer, stagingRoot,
    async start(definition) {
      const w = await startWorker(definition, {
        transport, store, config, stagingRoot, ...options,
        logger: createLogger({ level: 'silent' }),
        observer,
      });
      workers.push(w);
      return w;
    },
    bodies: (queue) => transport.peek(queue).map((m) => Buffer.from(m.body).toString('utf8')),
    async until(check, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; journal: ${journal.join(' | ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      for (const w of workers) await w.stop();
      await transport.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
