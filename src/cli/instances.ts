// `switchyard run --instances N|auto`: which services may run as several copies, checked
// in the supervising process before any copy starts (a copy that cannot work would only
// die and be restarted forever).

import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { isInstance, parseInstances, superviseInstances } from '../runtime/instances.js';
import { loadServices } from './load-services.js';
import type { Settings } from './settings.js';

/**
 * With more than one instance asked for and this process not a copy itself: checks the
 * modules, supervises the copies and resolves with the exit code. Otherwise undefined: run
 * the services here.
 */
export async function maybeSupervise(modules: readonly string[], flags: Record<string, unknown>, settings: Settings, logger: Logger): Promise<number | undefined> {
  const instances = parseInstances(flags.instances);
  if (instances <= 1 || isInstance()) return undefined;
  const definitions = (await Promise.all(modules.map((m) => loadServices(m)))).flat();
  const kinds = new Set(definitions.map((d) => d.kind));
  if (kinds.has('worker') && settings.transport === 'memory') {
    throw new errors.SY_ERR_USAGE('--instances > 1 needs a transport the copies share: the embedded memory transport lives inside one process. Use --transport amqp (or run one instance)');
  }
  if (kinds.has('task')) {
    throw new errors.SY_ERR_USAGE('--instances > 1 is not supported for task services: each copy would keep its own task table, so GET /tasks/{id}/status would miss tasks another copy runs. Run one instance per port (SERVICE_PORT) and register each with the engine');
  }
  if (kinds.has('api-service') && !settings.busConfig) {
    throw new errors.SY_ERR_USAGE('--instances > 1 needs a bus the copies share: without --bus-config API services run on the embedded memory bus, which lives inside one process. Give a bus configuration on Redis');
  }
  return superviseInstances({ instances, logger });
}
