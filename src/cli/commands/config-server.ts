// `switchyard config-server --map sysmap.yaml`: the map is checked before the port opens,
// so a bad map exits 2 with every problem listed.

import { errors } from '../../errors.js';
import { startConfigServer } from '../../config/config-server.js';
import { loadSysMap } from '../../config/sysmap.js';
import { stopOnSignals } from '../../runtime/lifecycle.js';

export async function configServerCommand(flags: { map: string; port: string; host: string }, out: (line: string) => void): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new errors.SY_ERR_USAGE(`--port must be 0-65535, got ${flags.port}`);
  const map = await loadSysMap(flags.map);
  const server = await startConfigServer({ map, host: flags.host, port });
  out(`configuration service for ${flags.map} (${map.services.size} service${map.services.size === 1 ? '' : 's'}) at ${server.url}`);
  await stopOnSignals({ stop: () => server.close() }).stopped;
}
