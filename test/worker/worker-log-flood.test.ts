// One log line per bad message lets whoever publishes to a queue flood the logs: such
// lines are rate-limited per kind, and the count of what was suppressed is written
// (issue 17, "rate-limit repeated warnings").

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseSysMap, MapConfigSource } from '../../src/config/sysmap.js';
import { createLogger } from '../../src/observability/logger.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';
import { startWorker, worker, type WorkerDefinition } from '../../src/models/worker/mod.js';
import { Observer } from '../../src/observability/observer.js';
import { observerLog } from '../../src/observability/observer-log.js';

const T = { timeout: 60_000 };
const MAP = parseSysMap('services:\n  flood:\n    in: flood-in\n    out:\n      - { case: true, queues: [flood-out] }\n', 'flood.yaml');

async function runFlood(definition: WorkerDefinition, bodies: string[]): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write(chunk, _e, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } }) });
  const dir = await mkdtemp(join(tmpdir(), 'sy-log-flood-'));
  const transport = new MemoryTransport();
  await transport.start();
  const settled = { n: 0 };
  // The log lines derived from the observer stream, as `switchyard run` writes them.
  const observer = new Observer();
  const log = observerLog(observer, logger, { handledAt: () => 'info' });
  observer.listen((e) => { if (e.type === 'dead-lettered' || e.type === 'handled') settled.n++; });
  const w = await startWorker(definition, { transport, store: new FsObjectStore({ root: dir }), config: new MapConfigSource(MAP), logger, observer });
  try {
    for (const body of bodies) await transport.send('flood-in', { body: Buffer.from(body) });
    const deadline = Date.now() + 50_000;
    while (settled.n < bodies.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled.n, bodies.length, 'every message was handled');
  } finally {
    await w.stop();
    log.detach();
    await transport.close();
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

describe('worker logs under a flood of bad messages', () => {
  it('10,000 bodies that are not ids: each dead-lettered, a handful of lines and the count of the rest', T, async () => {
    const lines = await runFlood(worker('flood', (id) => [[id, true]]), Array.from({ length: 10_000 }, (_, i) => `not-an-id-${i}`));
    const dead = lines.filter((l) => l.msg === 'message dead-lettered');
    assert.ok(dead.length <= 10, `${dead.length} "message dead-lettered" lines for 10,000 bad bodies`);
    const suppressed = lines.filter((l) => typeof l.suppressed === 'number').reduce((n, l) => n + (l.suppressed as number), 0);
    assert.equal(dead.length + suppressed, 10_000, 'every suppressed line is counted');
    assert.ok(lines.length <= 20, `${lines.length} lines in all`);
  });

  it('5,000 results dropped for want of a route (unroutedCases: "drop"): a handful of lines and the count', T, async () => {
    const lines = await runFlood(worker('flood', (id) => [[id, 'nowhere']], { unroutedCases: 'drop' }), Array.from({ length: 5_000 }, (_, i) => String(i)));
    const dropped = lines.filter((l) => l.msg === 'no route for this case; result dropped (unroutedCases: "drop")');
    assert.ok(dropped.length <= 10, `${dropped.length} "result dropped" lines`);
    const suppressed = lines.filter((l) => typeof l.suppressed === 'number').reduce((n, l) => n + (l.suppressed as number), 0);
    assert.equal(dropped.length + suppressed, 5_000);
  });
});
