// `switchyard topology <dir|map|components> --format svg|mermaid|dot`: the system as a
// picture without a server, from the same topology structure the dashboard draws.

import { writeFile } from 'node:fs/promises';
import { errors } from '../../errors.js';
import { buildTopology } from '../../observability/dashboard/topology.js';
import { renderDot, renderMermaid, TOPOLOGY_FORMATS, type TopologyFormat } from '../../observability/dashboard/render.js';
import { readTopologyInput } from '../topology-input.js';

export async function topologyCommand(input: string, flags: { format?: string; out?: string }, out: (text: string) => void): Promise<number> {
  const format = (flags.format ?? 'svg') as TopologyFormat;
  if (!TOPOLOGY_FORMATS.includes(format)) throw new errors.SY_ERR_USAGE(`--format must be one of ${TOPOLOGY_FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`);
  const topology = buildTopology(await readTopologyInput(input));
  let text: string;
  if (format === 'svg') {
    // The layout library is loaded only for pictures that need it.
    const [{ layoutTopology }, { renderSvg }] = await Promise.all([import('../../observability/dashboard/layout.js'), import('../../observability/dashboard/render.js')]);
    text = renderSvg(topology, layoutTopology(topology));
  } else {
    text = format === 'mermaid' ? renderMermaid(topology) : renderDot(topology);
  }
  if (flags.out) {
    await writeFile(flags.out, text);
    out(`wrote ${flags.out}: ${topology.nodes.length} nodes, ${topology.edges.length} edges (${format})`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
