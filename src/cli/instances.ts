// `switchyard run --instances N|auto`: which services may run as several copies, checked
// in the supervising process before any copy starts (a copy that cannot work would only
// die and be restarted forever).

import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ModelKind } from '../observability/observer.js';
import type { ModelRunner } from '../runtime/model.js';
import { isInstance, parseInstances, superviseInstances } from '../runtime/instances.js';
import { loadDefinitions } from './definitions.js';
import { loadRunner } from './models.js';
import type { ProcessSettings } from './process-settings.js';
import { resolveSystemSettings } from './system.js';

/**
 * With more than one instance asked for and this process not a copy itself: checks the
 * modules, supervises the copies and resolves with the exit code. Otherwise undefined: run
 * the services here.
 */
export async function maybeSupervise(modules: readonly string[], flags: Record<string, unknown>, makeLogger: (settings: ProcessSettings) => Logger): Promise<number | undefined> {
  const instances = parseInstances(flags.instances);
  if (instances <= 1 || isInstance()) return undefined;
  const definitions = await loadDefinitions(modules);
  const runners = new Map<ModelKind, ModelRunner>();
  for (const model of definitions.keys()) runners.set(model, await loadRunner(model));
  const { process: settings, sections, logger } = await resolveSystemSettings(runners, flags, process.env, process.cwd(), {}, makeLogger);
  // The embedded broker lives in the process that hosts it: copies would lose it with that one.
  if (definitions.has('worker') && settings.transport === 'memory') {
    throw new errors.SY_ERR_USAGE('--instances > 1 needs a transport the copies share: the embedded memory broker lives inside one process. Use --transport amqp (or run one instance)');
  }
  if (definitions.has('task')) {
    throw new errors.SY_ERR_USAGE('--instances > 1 is not supported for task services: each copy would keep its own task table, so GET /tasks/{id}/status would miss tasks another copy runs. Run one instance per port (SERVICE_PORT) and register each with the engine');
  }
  const api = sections.get('api') as { transport?: string } | undefined;
  if (definitions.has('api') && !api?.transport && !settings.transport.startsWith('redis')) {
    throw new errors.SY_ERR_USAGE('--instances > 1 needs a bus the copies share: without --bus-config (or --transport redis://…) API services run on the embedded memory bus, which lives inside one process. Give a bus on Redis');
  }
  return superviseInstances({ instances, logger });
}
