// Finds the service definitions a user module exports. TypeScript modules are loaded
// through tsx's loader, so `switchyard run worker.ts` needs no build step.

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors } from '../errors.js';
import { isWorkerDefinition, type WorkerDefinition } from '../models/worker/mod.js';
import { isApiServiceDefinition, type ApiServiceDefinition } from '../models/api/api-service.js';
import { isTaskServiceDefinition, type TaskServiceDefinition } from '../models/task/task-service.js';

export type ServiceDefinition = WorkerDefinition | ApiServiceDefinition | TaskServiceDefinition;

const isServiceDefinition = (v: unknown): v is ServiceDefinition => isWorkerDefinition(v) || isApiServiceDefinition(v) || isTaskServiceDefinition(v);

let tsxRegistered = false;

export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (/\.[cm]?tsx?$/.test(file) && !tsxRegistered) {
    const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    register();
    // A .ts file outside a "type": "module" package is CommonJS to Node; without tsx's
    // require hooks Node ≥ 20.19 fails it with "Cannot require() ES Module ... in a cycle".
    registerCjs();
    tsxRegistered = true;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** Every service definition exported by the module: default, named, or in exported arrays. */
export async function loadServices(path: string): Promise<ServiceDefinition[]> {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw new errors.SY_ERR_MODULE(path, 'no such file');
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SY_ERR_')) throw err;
    throw new errors.SY_ERR_MODULE(path, `importing it failed: ${(err as Error).message}`);
  }
  const found = new Set<ServiceDefinition>();
  // A CommonJS module's exports object arrives as the namespace's default; look inside it too.
  const cjs = mod.default !== null && typeof mod.default === 'object' && '__esModule' in mod.default ? Object.values(mod.default) : [];
  for (const value of [...Object.values(mod), ...cjs]) {
    for (const item of Array.isArray(value) ? value : [value]) if (isServiceDefinition(item)) found.add(item);
  }
  if (found.size === 0) throw new errors.SY_ERR_MODULE(path, 'it exports no service; add `export default worker("name", process)`, `apiService({ api }, setup)` or `taskService({ ... }, process)`');
  return [...found];
}
