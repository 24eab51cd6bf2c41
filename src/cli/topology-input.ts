// What `switchyard topology` and `switchyard dashboard` draw before anything runs: the
// components of a system with their inputs and outputs. Read from a system map (workers:
// each service's queue and its case routes), or from a components file — a plain list of
// components with their edges, the form every model's static edges plug into:
//
//   components:
//     - { model: api, service: calc, transport: redis,
//         inputs: [{ kind: rpc, name: calc.add }], outputs: [{ kind: event, name: calc.added }] }

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errors } from '../errors.js';
import { loadSysMap, type SysMap } from '../config/sysmap.js';
import { MODEL_KINDS } from '../observability/observer.js';
import type { ComponentPorts } from '../observability/dashboard/topology.js';

const port = z.strictObject({
  kind: z.enum(['queue', 'topic', 'rpc', 'event', 'socket', 'state', 'http', 'unix']).optional(),
  name: z.string().min(1),
  label: z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
});
const componentsFile = z.strictObject({
  components: z.array(z.strictObject({
    model: z.enum(MODEL_KINDS),
    service: z.string().min(1),
    transport: z.string().min(1).default('memory'),
    inputs: z.array(port).default([]),
    outputs: z.array(port).default([]),
  })),
});

/** A folder (its service modules, of any model, or its sysmap.yaml), a system-map file, or a components file. */
export async function readTopologyInput(input: string): Promise<ComponentPorts[]> {
  let file = input;
  try {
    if ((await stat(input)).isDirectory()) {
      // A folder of service modules: every model's components, from their runners.
      const { componentsOfModules } = await import('./topology-of-modules.js');
      const fromModules = await componentsOfModules(input);
      if (fromModules) return fromModules;
      file = join(input, 'sysmap.yaml');
    }
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('SY_ERR_')) throw err;
    throw new errors.SY_ERR_TOPOLOGY_INPUT(input, 'no such file or folder');
  }
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new errors.SY_ERR_TOPOLOGY_INPUT(file, (err as Error).message);
  }
  if (doc && typeof doc === 'object' && 'components' in doc) {
    const parsed = componentsFile.safeParse(doc);
    if (!parsed.success) throw new errors.SY_ERR_TOPOLOGY_INPUT(file, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data.components.map((c) => ({ source: { model: c.model, service: c.service, transport: c.transport }, inputs: c.inputs, outputs: c.outputs }));
  }
  return componentsOfSysMap(await loadSysMap(file));
}

/** Workers of a system map: the inbound queue, and each case's queues labelled with the case value. */
export function componentsOfSysMap(map: SysMap): ComponentPorts[] {
  const transport = map.rabbitmq ? 'amqp' : 'memory';
  return [...map.services.values()].map((s) => ({
    source: { model: 'worker' as const, service: s.name, transport },
    inputs: [{ kind: 'queue' as const, name: s.in }],
    outputs: s.out.flatMap((o) => o.queues.map((q) => ({ kind: 'queue' as const, name: q, label: caseLabel(o.case) }))),
  }));
}

/** A case value as drawn: true, 1, question (the same text a worker's live events carry). */
function caseLabel(value: unknown): string {
  return String(value);
}
