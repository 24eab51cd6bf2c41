// What the fault tests share: a rig per test file (its own RabbitMQ and s3rver on
// 127.0.0.1, a temp folder), worker processes of the built CLI (`node bin/switchyard.js run
// fixture.ts ...`) tracked and killed by PID, and the test's own view of the broker and the
// store through raw amqplib and the AWS SDK, so that no check depends on Switchyard's own
// consumer or store.

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { jsonLines, killAll, requireBuild, start, tempDir, type Cli, type Exit } from '../cli/cli-helpers.js';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { BUCKETS, inputOf } from './fixtures/contents.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const SYSMAP = join(FIXTURES, 'sysmap.yaml');

requireRabbitMq();


const ACCESS_KEY = 'SYFAULTACCESSKEY';
const SECRET_KEY = 'sy-fault-secret-key';

export function log(line: string): void {
  console.log(`faults: ${line}`);
}

export const ids = (count: number, first = 1): string[] => Array.from({ length: count }, (_, i) => String(first + i));

// ---- the rig

export interface Rig {
  readonly broker: RabbitMq;
  readonly s3: S3Server;
  readonly s3Client: S3Client;
  readonly dir: string;
  /** Starts `switchyard run <fixture>` on this rig's broker and store; killed by PID in close(). */
  spawnWorker(fixture: string, options?: { env?: Record<string, string>; logLevel?: string; args?: readonly string[] }): WorkerProcess;
  /** Kills every worker, destroys the broker, stops s3rver, removes the temp folder. */
  close(): Promise<void>;
}

/**
 * Starts s3rver (with the fixture buckets) and RabbitMQ; `seed` input objects are put while
 * the broker boots.
 */
export async function startRig(options: { seed?: readonly string[] } = {}): Promise<Rig> {
  requireBuild();
  const tmp = await tempDir('switchyard-faults-');
  const staging = join(tmp.dir, 'staging');
  const state = join(tmp.dir, 'state');
  await mkdir(staging, { recursive: true });
  let broker: RabbitMq | undefined;
  let s3: S3Server | undefined;
  let s3Client: S3Client | undefined;
  try {
    s3 = await startS3Server({ buckets: Object.values(BUCKETS), accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
    s3Client = s3ClientOf(s3);
    const booting = startRabbitMq().then((b) => (broker = b));
    const seeding = options.seed ? seedInputs(s3Client, options.seed, inputOf) : Promise.resolve();
    // Both settle before either failure is thrown, so nothing is left running unseen.
    const [b, s] = await Promise.allSettled([booting, seeding]);
    if (b.status === 'rejected') throw b.reason;
    if (s.status === 'rejected') throw s.reason;
  } catch (err) {
    s3Client?.destroy();
    await broker?.destroy().catch(() => undefined);
    await s3?.close().catch(() => undefined);
    await tmp.remove();
    throw err;
  }
  const workers: WorkerProcess[] = [];
  const rig: Rig = {
    broker: broker!,
    s3,
    s3Client,
    dir: tmp.dir,
    spawnWorker(fixture, options = {}) {
      const cli = start([
        'run', join(FIXTURES, fixture),
        '--map', SYSMAP,
        '--transport', 'amqp', '--amqp-url', broker!.url,
        '--storage', 's3', '--s3-endpoint', s3!.endpoint,
        '--s3-access-key', 'env:SY_FAULT_S3_ACCESS_KEY', '--s3-secret-key', 'env:SY_FAULT_S3_SECRET_KEY',
        '--staging-dir', staging, '--state-dir', state,
        '--log-level', options.logLevel ?? 'info',
        ...(options.args ?? []),
      ], { env: { SY_FAULT_S3_ACCESS_KEY: ACCESS_KEY, SY_FAULT_S3_SECRET_KEY: SECRET_KEY, ...options.env } });
      const worker = new WorkerProcess(fixture, cli);
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const w of workers) w.kill('SIGKILL');
      // SY_FAULT_DUMP=folder keeps every worker's output there, for looking into a run.
      const dump = process.env.SY_FAULT_DUMP;
      if (dump) {
        await mkdir(dump, { recursive: true });
        for (const w of workers) await writeFile(join(dump, `${w.fixture.replace(/\W+/g, '-')}${w.pid}.log`), `${w.cli.stdout()}\n--- stderr\n${w.cli.stderr()}`);
      }
      killAll();
      s3Client!.destroy();
      await Promise.allSettled([broker!.destroy(), s3!.close()]);
      await tmp.remove();
    },
  };
  return rig;
}

function s3ClientOf(s3: S3Server): S3Client {
  // The SDK's notice that its 2027 releases need Node 22 (the version here is pinned).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: s3.endpoint,
    region: 'garage',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

// ---- worker processes

export class WorkerProcess {
  constructor(readonly fixture: string, readonly cli: Cli) {}

  get pid(): number {
    return this.cli.pid;
  }

  stdout(): string {
    return this.cli.stdout();
  }

  /** The last lines of its output, for failure messages. */
  tail(lines = 15): string {
    const out = this.cli.stdout().trimEnd().split('\n').slice(-lines).join('\n');
    const err = this.cli.stderr().trim();
    return `${this.fixture} pid ${this.pid} (exited: ${this.cli.hasExited()})\n${out}${err ? `\nstderr: ${err.slice(-2000)}` : ''}`;
  }

  /** Resolves once it consumes ("worker started"); rejects if it exits first or after timeoutMs. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.cli.stdout().includes('"msg":"worker started"')) {
      if (this.cli.hasExited()) throw new Error(`worker exited before it started:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`worker not started after ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(20);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.cli.kill(signal);
  }

  /** Its exit (code, signal); rejects if it is still running after timeoutMs. */
  async exited(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.cli.exited,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms:\n${this.tail()}`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Its JSON log lines with this msg. */
  lines(msg: string): Array<Record<string, unknown>> {
    return jsonLines(this.cli.stdout()).filter((l) => l.msg === msg);
  }

  /** Ids of its "message done" lines. */
  doneIds(): string[] {
    return this.lines('message done').map((l) => String(l.id));
  }
}

// ---- the store

/** Puts the input object (inputOf) of every id, a few at a time. */
export async function seedInputs(client: S3Client, list: readonly string[], contentOf: (id: string) => string = inputOf): Promise<void> {
  await inParallel(list, 16, async (id) => {
    await client.send(new PutObjectCommand({ Bucket: BUCKETS.src, Key: id, Body: contentOf(id) }));
  });
}

/** The object's text, or undefined when it is missing. */
export async function getText(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** The object as s3rver keeps it on disk (readable while the server is down), or undefined. */
export async function readStoredObject(s3: S3Server, bucket: string, key: string): Promise<string | undefined> {
  return readFile(join(s3.directory, bucket, `${key}._S3rver_object`), 'utf8').catch(() => undefined);
}

/** Checks every id's object in `bucket`; returns the missing ones and the ones with other content. */
export async function checkObjects(client: S3Client, bucket: string, list: readonly string[], expectedOf: (id: string) => string): Promise<{ missing: string[]; wrong: string[] }> {
  const missing: string[] = [];
  const wrong: string[] = [];
  await inParallel(list, 16, async (id) => {
    const text = await getText(client, bucket, id);
    if (text === undefined) missing.push(id);
    else if (text !== expectedOf(id)) wrong.push(`${id}: ${JSON.stringify(text)}`);
  });
  return { missing, wrong };
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// ---- the broker, through raw amqplib

/**
 * Publishes ids (decimal text, persistent, default exchange — as slingshot does) on a
 * confirm channel, `batch` at a time. When the connection or channel is lost it connects
 * again and re-sends only the ids the broker had not confirmed.
 */
export async function publishIds(url: string, queue: string, list: readonly string[], options: { batch?: number; pauseMs?: number; deadlineMs?: number; onBatch?: (confirmed: number) => void | Promise<void> } = {}): Promise<{ confirmed: number; publishes: number; /** new connections after the first */ reconnects: number }> {
  const { batch = 100, pauseMs = 0, deadlineMs = 120_000 } = options;
  const deadline = Date.now() + deadlineMs;
  const confirmed = new Set<string>();
  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let publishes = 0;
  let reconnects = 0;
  let connections = 0;
  try {
    while (confirmed.size < list.length) {
      if (Date.now() > deadline) throw new Error(`publishing to ${queue}: only ${confirmed.size} of ${list.length} confirmed after ${deadlineMs} ms`);
      try {
        if (!channel) {
          connection = await connect(url);
          connection.on('error', () => undefined);
          const ch = await connection.createConfirmChannel();
          ch.on('error', () => undefined);
          await ch.assertQueue(queue, { durable: true });
          channel = ch;
          if (connections++ > 0) reconnects++;
        }
        const todo = list.filter((id) => !confirmed.has(id));
        for (let i = 0; i < todo.length; i += batch) {
          const chunk = todo.slice(i, i + batch);
          const ch = channel;
          const confirms = chunk.map((id) => new Promise<void>((resolve, reject) => {
            publishes++;
            try {
              ch.sendToQueue(queue, Buffer.from(id), { persistent: true }, (err) => (err ? reject(err) : resolve()));
            } catch (err) {
              reject(err as Error);
            }
          }));
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)));
          const settled = await Promise.race([Promise.allSettled(confirms), timeout]);
          clearTimeout(timer);
          if (settled === 'timeout') throw new Error('no confirm within 15 s');
          settled.forEach((r, j) => {
            if (r.status === 'fulfilled') confirmed.add(chunk[j]!);
          });
          if (settled.some((r) => r.status === 'rejected')) throw new Error('a publish was not confirmed');
          await options.onBatch?.(confirmed.size);
          if (pauseMs > 0) await sleep(pauseMs);
        }
      } catch {
        // Connection or channel lost: drop both and try again with what is unconfirmed.
        const old = connection;
        channel = undefined;
        connection = undefined;
        await old?.close().catch(() => undefined);
        await sleep(250);
      }
    }
  } finally {
    await connection?.close().catch(() => undefined);
  }
  return { confirmed: confirmed.size, publishes, reconnects };
}

export interface Received {
  readonly queue: string;
  readonly id: string;
  readonly message: ConsumeMessage;
}

/**
 * Consumes queues with raw amqplib (manual ack after `check`), counting every id it gets.
 * Connects again by itself when the broker goes away.
 */
export class Collector {
  readonly counts = new Map<string, number>();
  readonly received: Received[] = [];
  reconnects = 0;
  private connection: ChannelModel | undefined;
  private stopped = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly queues: readonly string[],
    private readonly check?: (r: Received) => Promise<void>,
  ) {}

  async start(): Promise<void> {
    await this.attach();
  }

  get unique(): number {
    return this.counts.size;
  }

  /** Deliveries beyond the first of each id. */
  get duplicates(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c - 1;
    return n;
  }

  missing(expected: readonly string[]): string[] {
    return expected.filter((id) => !this.counts.has(id));
  }

  /** Waits until every expected id arrived; returns the missing ones at the deadline. */
  async waitForAll(expected: readonly string[], timeoutMs: number, onProgress?: () => void): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = this.missing(expected);
      if (missing.length === 0 || Date.now() > deadline) return missing;
      onProgress?.();
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.connecting?.catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }

  private attach(): Promise<void> {
    this.connecting ??= (async () => {
      const connection = await connect(this.url);
      connection.on('error', () => undefined);
      connection.on('close', () => {
        if (this.connection !== connection) return;
        this.connection = undefined;
        if (!this.stopped) void this.reconnect();
      });
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.prefetch(64);
      for (const queue of this.queues) {
        await channel.assertQueue(queue, { durable: true });
        await channel.consume(queue, (message) => {
          if (message) void this.onMessage(channel, queue, message);
        }, { noAck: false });
      }
      this.connection = connection;
      if (this.stopped) await connection.close().catch(() => undefined);
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async reconnect(): Promise<void> {
    this.reconnects++;
    const deadline = Date.now() + 120_000;
    while (!this.stopped && Date.now() < deadline) {
      try {
        await this.attach();
        return;
      } catch {
        await sleep(250);
      }
    }
  }

  private async onMessage(channel: Channel, queue: string, message: ConsumeMessage): Promise<void> {
    const r: Received = { queue, id: message.content.toString('utf8'), message };
    if (this.check) await this.check(r).catch(() => undefined);
    this.counts.set(r.id, (this.counts.get(r.id) ?? 0) + 1);
    this.received.push(r);
    try {
      channel.ack(message);
    } catch {
      // channel gone: the broker redelivers it, counted again as a duplicate
    }
  }
}

/** Ready messages in a queue (passive check), through a channel of its own. */
export async function queueDepth(url: string, queue: string): Promise<number> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    return messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Fails the test with the missing ids (loss) and the worker's last lines; duplicates never fail it. */
export function assertNoLoss(what: string, missing: readonly string[], workers: readonly WorkerProcess[] = []): void {
  assert.equal(missing.length, 0, `${what}: ${missing.length} lost: ${missing.slice(0, 30).join(', ')}${missing.length > 30 ? ', …' : ''}\n${workers.map((w) => w.tail()).join('\n---\n')}`);
}
