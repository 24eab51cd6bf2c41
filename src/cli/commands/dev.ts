// `switchyard dev <dir>`: a whole example system in one process on the embedded default,
// whatever models its modules use. The folder's sysmap.yaml (when it has one) is served
// over real HTTP as slingshot's configuration service; every service module in the folder
// runs through the same system `run` builds (cli/system.ts), with the transport pinned to
// the embedded default; an optional seed.yaml puts input objects and sends ids; and the
// flow of every model is printed from the observer stream as it goes.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HttpConfigSource } from '../../config/config-client.js';
import type { ConfigSource } from '../../config/config-source.js';
import { startConfigServer } from '../../config/config-server.js';
import { loadSysMap, type SysMap } from '../../config/sysmap.js';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { MemoryTransport } from '../../transports/memory/memory-transport.js';
import { hostedMemoryOf } from '../../transports/memory/shared/shared-transport.js';
import { deadLetterQueueOf, DEAD_LETTER_HEADERS } from '../../transports/transport.js';
import { loadDefinitions, modulesOfFolder } from '../definitions.js';
import { flowPrinter, type FlowRecord } from '../flow-printer.js';
import type { ProcessSettings } from '../process-settings.js';
import { startSystemDashboard } from '../system-dashboard.js';
import { buildSystem, type System } from '../system.js';
import { startOrClose } from './run.js';

export interface DevOptions {
  readonly untilIdle: boolean;
  /** With untilIdle: give up (exit 1) when the system is not idle after this many ms. */
  readonly timeoutMs: number;
  readonly flags: Record<string, unknown>;
  /** Serve the dashboard (on --dashboard-port, else 7465) and keep running after --until-idle. */
  readonly dashboard?: boolean;
  readonly logger: (settings: ProcessSettings) => Logger;
  readonly out: (line: string) => void;
}

/** The dashboard's port for `dev --dashboard` (the standalone `switchyard dashboard` uses it too). */
const DEFAULT_DASHBOARD_PORT = 7465;

const seedSchema = z.strictObject({
  put: z.array(z.strictObject({ service: z.string(), alias: z.string(), id: z.union([z.number().int(), z.string()]), file: z.string() })).default([]),
  send: z.array(z.strictObject({ queue: z.string(), bodies: z.array(z.string()) })).default([]),
});

export async function dev(dir: string, options: DevOptions): Promise<number> {
  const { out } = options;
  const root = resolve(dir);
  const mapFile = join(root, 'sysmap.yaml');
  const map = existsSync(mapFile) ? await loadSysMap(mapFile) : undefined;
  const configServer = map ? await startConfigServer({ map }) : undefined;
  const config: (() => Promise<ConfigSource>) | undefined = configServer ? async () => new HttpConfigSource({ host: configServer.url }) : undefined;
  let system: System;
  try {
    system = await buildSystem({
      definitions: await loadDefinitions(modulesOfFolder(root), { folder: root }),
      flags: options.flags,
      logger: options.logger,
      pinned: { transport: 'memory', ...(options.dashboard && options.flags.dashboardPort === undefined ? { dashboardPort: DEFAULT_DASHBOARD_PORT } : {}) },
      // The flow below is what dev prints; the JSON log lines only when a level is asked for.
      streamLog: options.flags.logLevel !== undefined || Boolean(process.env.SWITCHYARD_LOG_LEVEL),
      ...(config ? { configSource: config } : {}),
    });
  } catch (err) {
    await configServer?.close();
    throw err;
  }
  if (configServer) system.runtime.addResource({ name: 'configuration service', stop: () => configServer.close() });
  const printer = flowPrinter(out);
  system.runtime.observer.listen(printer.listener);
  out(`switchyard dev ${dir}: ${configServer ? `configuration service at ${configServer.url}, ` : ''}state in ${resolve(system.settings.stateDir)}`);

  await startOrClose(system, async () => {
    if (system.settings.dashboardPort !== undefined) out(`dashboard at ${await startSystemDashboard(system, system.settings.dashboardPort)}`);
  });
  if (system.metricsUrl) out(`metrics at ${system.metricsUrl}`);
  const memory = await hostedMemory(system);
  try {
    await seed(root, system, out);
  } catch (err) {
    await system.runtime.stop().catch(() => undefined);
    throw err;
  }

  if (options.untilIdle) {
    if (!memory) {
      await system.runtime.stop();
      throw new errors.SY_ERR_USAGE(`--until-idle needs this process to host the embedded broker, but another switchyard process runs it in ${system.settings.stateDir}: stop it or give --state-dir of a folder of its own`);
    }
    const idle = await waitForIdle(memory, options.timeoutMs);
    // With the dashboard, the system stays up after the summary: the page shows it, retries flow.
    if (system.settings.dashboardPort === undefined) await system.runtime.stop();
    summarize(map, memory, printer.record, out);
    if (!idle) out(`not idle after ${options.timeoutMs} ms: ${system.settings.dashboardPort === undefined ? 'stopped with work still pending' : 'work still pending'}`);
    if (system.settings.dashboardPort === undefined) return idle ? 0 : 1;
    out('');
    out('the system keeps running for the dashboard; Ctrl-C stops');
    return system.runtime.untilSignal();
  }
  out('running; inject work from another terminal with: switchyard send <queue> <id...>   (Ctrl-C stops)');
  return system.runtime.untilSignal();
}

/** The embedded broker's queues when this process hosts them (not when it attached to another's). */
async function hostedMemory(system: System): Promise<MemoryTransport | undefined> {
  return hostedMemoryOf((await system.transports.opened('memory'))?.queues);
}

async function seed(root: string, system: System, out: (line: string) => void): Promise<void> {
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
  if (parsed.data.put.length > 0) {
    const [config, store]: [ConfigSource, ObjectStore] = await Promise.all([system.configSource(), system.objectStore()]);
    for (const p of parsed.data.put) {
      const bucket = await config.bucket(p.service, p.alias);
      await store.putFile(bucket, String(p.id), resolve(root, p.file));
      out(`seed      put ${p.file} as ${bucket}/${p.id}`);
    }
  }
  if (parsed.data.send.length > 0) {
    const { queues } = await system.transports.open('memory', 'worker', ['queue']);
    for (const s of parsed.data.send) {
      for (const body of s.bodies) await queues!.send(s.queue, { body: Buffer.from(body, 'utf8') });
      out(`seed      sent ${s.bodies.map((b) => JSON.stringify(b)).join(' ')} to ${s.queue}`);
    }
  }
}

/** Resolves true once nothing is waiting, in flight or delayed, three checks in a row. */
async function waitForIdle(memory: MemoryTransport, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    const { waiting, inFlight, delayed } = memory.activity();
    quiet = waiting + inFlight + delayed === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function summarize(map: SysMap | undefined, memory: MemoryTransport, record: FlowRecord, out: (line: string) => void): void {
  const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');
  out('');
  if (map) {
    const inbound = new Set([...map.services.values()].map((s) => s.in));
    const sinks = [...new Set([...map.services.values()].flatMap((s) => s.out.flatMap((o) => o.queues)))].filter((q) => !inbound.has(q));
    out('Results waiting in the end queues (no service consumes them):');
    for (const queue of sinks) out(`  ${queue.padEnd(18)} ${memory.peek(queue).map((m) => text(m.body)).join(', ') || '-'}`);
  }
  out('Dead letters:');
  let dead = 0;
  const suffix = deadLetterQueueOf('');
  for (const queue of memory.queueNames().filter((q) => q.endsWith(suffix)).sort()) {
    for (const m of memory.peek(queue)) {
      dead++;
      out(`  ${queue}  ${JSON.stringify(text(m.body))}: ${m.headers[DEAD_LETTER_HEADERS.reason]}`);
    }
  }
  // Work other models set aside (no dead-letter queue of the embedded broker holds it).
  const queues = new Set(memory.queueNames());
  for (const d of record.deadLetters.filter((d) => !queues.has(deadLetterQueueOf(d.input)))) {
    dead++;
    out(`  ${d.service} ${d.input}: ${d.reason}`);
  }
  if (dead === 0) out('  -');
  out('Output objects:');
  for (const w of record.wrote) out(`  ${w.object}`);
  if (record.wrote.length === 0) out('  -');
}
