// Starts service definitions on an environment, each with the runner of its model.
// One switch over model kinds, here at the top layer, so models never know each other.

import { startWorker, type WorkerEnvironment } from '../models/worker/mod.js';
import { startTaskService, type TaskServiceEnvironment } from '../models/task/mod.js';
import { errors } from '../errors.js';
import type { Stoppable } from '../runtime/lifecycle.js';
import { stopAll } from '../runtime/lifecycle.js';
import type { ServiceDefinition } from './load-services.js';

/** Worker services need the worker environment, task services the task one; each only when present. */
export type ServiceEnvironment = Partial<WorkerEnvironment> & { readonly task?: TaskServiceEnvironment };

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new errors.SY_ERR_USAGE(`internal: ${what} missing from the service environment`);
  return value;
}

/** Starts every definition; if one fails to start, the ones already started are stopped. */
export async function startServices(definitions: readonly ServiceDefinition[], env: ServiceEnvironment): Promise<Stoppable[]> {
  const started: Stoppable[] = [];
  try {
    for (const definition of definitions) {
      switch (definition.kind) {
        case 'worker':
          started.push(await startWorker(definition, env as WorkerEnvironment));
          break;
        case 'task':
          started.push(await startTaskService(definition, need(env.task, 'the task environment')));
          break;
        case 'api-service':
          // Started by `run` on a bus made from the bus configuration (see commands/run.ts).
          break;
      }
    }
  } catch (err) {
    await stopAll(started).catch(() => undefined);
    throw err;
  }
  return started;
}
