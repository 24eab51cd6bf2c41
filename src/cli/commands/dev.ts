// `switchyard dev <dir>`: a whole example system in one process on the embedded default.
// The folder's sysmap.yaml is served over real HTTP as slingshot's configuration service,
// every service module in the folder runs on the memory transport with the fs store, an
// optional seed.yaml puts input objects and sends ids, and the flow is printed as it goes
// (flow-printer.ts, from the observer stream). The workers run through their model's runner
// on the one Runtime.

import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { HttpConfigSource } from '../../config/config-client.js';
import { startConfigServer } from '../../config/config-server.js';
import { loadSysMap, type SysMap } from '../../config/sysmap.js';
import { FsObjectStore } from '../../storage/fs/mod.js';
import { MemoryTransport } from '../../transports/memory/mod.js';
import { deadLetterQueueOf, DEAD_LETTER_HEADERS } from '../../transports/transport.js';
import { stopOnSignals } from '../../runtime/lifecycle.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import { memorySpec } from '../../transports/memory/memory-url.js';
import { runner as workerRunner } from '../../models/worker/runner.js';
import type { WorkerSettings } from '../../models/worker/settings.js';
import { isWorkerDefinition, type WorkerDefinition } from '../../models/worker/worker.js';
import { flowPrinter, type FlowRecord } from '../flow-printer.js';
import { openInbox } from '../inbox.js';
import { loadServices } from '../load-services.js';
import { memoryTransportOptionsOf, storageDirOf, type Settings } from '../settings.js';
import { resolveWorkerSettings } from '../worker-settings.js';
import type { Logger } from '../../observability/logger.js';

export interface DevOptions {
  readonly untilIdle: boolean;
  /** With untilIdle: give up (exit 1) when the system is not idle after this many ms. */
  readonly timeoutMs: number;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly out: (line: string) => void;
  /** The command's flags, for the worker settings section (--staging-dir, --staging-memory-bytes). */
  readonly flags?: Record<string, unknown>;
}

const seedSchema = z.strictObject({
  put: z.array(z.strictObject({ service: z.string(), alias: z.string(), id: z.union([z.number().int(), z.string()]), file: z.string() })).default([]),
  send: z.array(z.strictObject({ queue: z.string(), bodies: z.array(z.string()) })).default([]),
});

export async function dev(dir: string, options: DevOptions): Promise<number> {
  const { out, settings, logger } = options;
  const root = resolve(dir);
  const map = await loadSysMap(join(root, 'sysmap.yaml'));
  const workerSettings = resolveWorkerSettings(options.flags ?? {});
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const spec = memorySpec(memoryTransportOptionsOf(settings));
  const transport = (await transports.open(spec, workerRunner.model, workerRunner.needs)).queues as MemoryTransport;
  const store = new FsObjectStore({ root: storageDirOf(settings) });
  const configServer = await startConfigServer({ map });
  runtime.addResource({ name: 'configuration service', stop: () => configServer.close() });
  const config = new HttpConfigSource({ host: configServer.url });
  out(`switchyard dev ${dir}: configuration service at ${configServer.url}, objects in ${store.root}`);

  const printer = flowPrinter(out);
  runtime.observer.listen(printer.listener);
  try {
    const definitions = (await Promise.all((await serviceModules(root)).map((f) => loadServices(f)))).flat();
    const ctx: RunContext<WorkerSettings> = {
      logger, observer: runtime.observer, transports, settings: workerSettings, transport: spec, stateDir: settings.stateDir,
      configSource: async () => config, objectStore: async () => store,
    };
    for (const component of await workerRunner.components(definitions.filter((d): d is WorkerDefinition => isWorkerDefinition(d)), ctx)) await runtime.add(component);
    await runtime.start();
    await transport.start(); // started by the first worker already; a folder without one still takes the seed
    await seed(root, transport, store, config, out);
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }

  if (options.untilIdle) {
    const idle = await waitForIdle(transport, options.timeoutMs);
    await runtime.stop();
    summarize(map, transport, store, printer.record, out);
    if (!idle) out(`not idle after ${options.timeoutMs} ms: stopped with work still pending`);
    return idle ? 0 : 1;
  }

  const inbox = await openInbox(transport, settings.stateDir);
  runtime.addResource({ name: 'inbox', stop: () => inbox.stop() });
  out(`running; inject work from another terminal with: switchyard send <queue> <id...>   (Ctrl-C stops)`);
  await stopOnSignals({ stop: () => runtime.stop() }, { onFirstSignal: () => out('stopping: finishing the messages in flight (Ctrl-C again to exit at once)') }).stopped;
  return 0;
}

/** Every module in the folder that may export services. */
async function serviceModules(root: string): Promise<string[]> {
  const names = (await readdir(root)).filter((n) => /\.(ts|mts|js|mjs)$/.test(n) && !/\.d\.ts$|\.test\./.test(n)).sort();
  if (names.length === 0) throw new errors.SY_ERR_USAGE(`${root} holds no service modules (*.ts or *.js files exporting worker(...))`);
  return names.map((n) => join(root, n));
}

async function seed(root: string, transport: MemoryTransport, store: FsObjectStore, config: HttpConfigSource, out: (line: string) => void): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(root, 'seed.yaml'), 'utf8');
  } catch {
    return;
  }
  const parsed = seedSchema.safeParse(parseYaml(text) ?? {});
  if (!parsed.success) {
    throw new errors.SY_ERR_USAGE(`${join(root, 'seed.yaml')} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  for (const p of parsed.data.put) {
    const bucket = await config.bucket(p.service, p.alias);
    await store.putFile(bucket, String(p.id), resolve(root, p.file));
    out(`seed      put ${p.file} as ${bucket}/${p.id}`);
  }
  for (const s of parsed.data.send) {
    for (const body of s.bodies) await transport.send(s.queue, { body: Buffer.from(body, 'utf8') });
    out(`seed      sent ${s.bodies.map((b) => JSON.stringify(b)).join(' ')} to ${s.queue}`);
  }
}

/** Resolves true once nothing is waiting, in flight or delayed, three checks in a row. */
async function waitForIdle(transport: MemoryTransport, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    const { waiting, inFlight, delayed } = transport.activity();
    quiet = waiting + inFlight + delayed === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function summarize(map: SysMap, transport: MemoryTransport, store: FsObjectStore, record: FlowRecord, out: (line: string) => void): void {
  const inbound = new Set([...map.services.values()].map((s) => s.in));
  const sinks = [...new Set([...map.services.values()].flatMap((s) => s.out.flatMap((o) => o.queues)))].filter((q) => !inbound.has(q));
  const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');
  out('');
  out('Results waiting in the end queues (no service consumes them):');
  for (const queue of sinks) out(`  ${queue.padEnd(18)} ${transport.peek(queue).map((m) => text(m.body)).join(', ') || '-'}`);
  out('Dead letters:');
  let dead = 0;
  for (const service of map.services.values()) {
    for (const m of transport.peek(deadLetterQueueOf(service.in))) {
      dead++;
      out(`  ${deadLetterQueueOf(service.in)}  ${JSON.stringify(text(m.body))}: ${m.headers[DEAD_LETTER_HEADERS.reason]}`);
    }
  }
  if (dead === 0) out('  -');
  out('Output objects:');
  for (const { object } of record.wrote) {
    const slash = object.indexOf('/');
    out(`  ${object.padEnd(18)} ${store.describe(object.slice(0, slash), object.slice(slash + 1))}`);
  }
  if (record.wrote.length === 0) out('  -');
}
