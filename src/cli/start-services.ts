// Starts service definitions on an environment, each with the runner of its model.
// One switch over model kinds, here at the top layer, so models never know each other.
// (Task services run through their model's runner on the Runtime: commands/run-task-service.ts.)

import { startWorker, type WorkerEnvironment } from '../models/worker/mod.js';
import type { Stoppable } from '../runtime/lifecycle.js';
import { stopAll } from '../runtime/lifecycle.js';
import type { ServiceDefinition } from './load-services.js';

/** Worker services need the worker environment. */
export type ServiceEnvironment = Partial<WorkerEnvironment>;

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
          // Started by `run` through the task model's runner (see commands/run-task-service.ts).
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
