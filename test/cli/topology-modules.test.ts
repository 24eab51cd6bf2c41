// `switchyard topology <dir>` of a folder whose modules mix models: each runner tells its
// definitions' edges without running anything (no broker, no socket, no HTTP server).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTopologyInput } from '../../src/cli/topology-input.js';

const SRC = resolve('src');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-topology-'));
  await writeFile(join(dir, 'sysmap.yaml'), 'services:\n  ingest:\n    in: ingest-in\n    out:\n      - { case: true, queues: [clean] }\n');
  await writeFile(join(dir, 'ingest.ts'), `import { worker } from ${JSON.stringify(join(SRC, 'index.ts'))};\nexport default worker('ingest', (id) => [[id, true]]);\n`);
  await writeFile(join(dir, 'quotes.ts'), `import { service, replyer, t } from ${JSON.stringify(join(SRC, 'models/service/mod.ts'))};
export default service({
  name: 'quotes',
  connections: { in: { quote: replyer({ requiredArguments: { symbol: t.str }, requiredReturnArguments: { symbol: t.str } }, (args) => ({ symbol: args.symbol })) } },
});
`);
  // Shared code beside the services: exports no definition, and is not one.
  await writeFile(join(dir, 'shared.ts'), 'export const greeting = "hello";\n');
});
after(() => rm(dir, { recursive: true, force: true }));

describe('switchyard topology of a folder of modules', () => {
  it('draws every model\'s services with their edges, from the runners, without running them', async () => {
    const components = await readTopologyInput(dir);
    const byService = new Map(components.map((c) => [c.source.service, c]));
    assert.deepEqual([...byService.keys()].sort(), ['ingest', 'quotes']);
    assert.equal(byService.get('ingest')!.source.model, 'worker');
    assert.deepEqual(byService.get('ingest')!.inputs.map((e) => e.name), ['ingest-in']);
    assert.deepEqual(byService.get('ingest')!.outputs.map((e) => [e.name, e.label]), [['clean', 'true']]);
    assert.equal(byService.get('quotes')!.source.model, 'service');
    assert.equal(byService.get('quotes')!.source.transport, 'zeromq');
    assert.deepEqual(byService.get('quotes')!.inputs.map((e) => `${e.kind}:${e.name}`), ['socket:quote']);
  });

  it('a folder whose modules export no service is refused naming it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'sy-topology-empty-'));
    try {
      await writeFile(join(empty, 'shared.ts'), 'export const x = 1;\n');
      await assert.rejects(readTopologyInput(empty), /SY_ERR_MODULE: module .*sy-topology-empty-.* cannot be run: no module in it exports a service/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
