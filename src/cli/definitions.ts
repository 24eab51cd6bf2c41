// The definitions a user's modules export, sorted by model. A definition carries the mark
// of its model (runtime/model.ts), so nothing here loads a model to recognise its
// definitions: a module that exports workers alone never loads the API model's code.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errors } from '../errors.js';
import { MODEL_KINDS, type ModelKind } from '../observability/observer.js';
import { modelOf } from '../runtime/model.js';
import { importModule } from './load-services.js';

export type DefinitionsByModel = Map<ModelKind, unknown[]>;

/** Every definition a module exports: default, named, or inside exported arrays. */
function definitionsIn(mod: Record<string, unknown>): unknown[] {
  // A CommonJS module's exports object arrives as the namespace's default; look inside it too.
  const cjs = mod.default !== null && typeof mod.default === 'object' && '__esModule' in mod.default ? Object.values(mod.default) : [];
  const found = new Set<unknown>();
  for (const value of [...Object.values(mod), ...cjs]) {
    for (const item of Array.isArray(value) ? value : [value]) if (modelOf(item)) found.add(item);
  }
  return [...found];
}

const EXPORT_HINT = 'export a worker(...), apiService(...), service(...), taskService(...) or defineProvider(...) definition (e.g. `export default worker("name", process)`)';

/**
 * Loads the modules (TypeScript through tsx) and sorts what they export by model. Each named
 * module must export a service; the modules of a `folder` may also be shared code (an API
 * declaration, helpers), as long as one of them exports a service.
 */
export async function loadDefinitions(paths: readonly string[], options: { folder?: string } = {}): Promise<DefinitionsByModel> {
  const byModel: DefinitionsByModel = new Map();
  for (const path of paths) {
    const file = resolve(path);
    if (!existsSync(file) || !statSync(file).isFile()) throw new errors.SY_ERR_MODULE(path, 'no such file');
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(file);
    } catch (err) {
      if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SY_ERR_')) throw err;
      throw new errors.SY_ERR_MODULE(path, `importing it failed: ${(err as Error).message}`);
    }
    const found = definitionsIn(mod);
    if (found.length === 0 && options.folder === undefined) throw new errors.SY_ERR_MODULE(path, `it exports no service; ${EXPORT_HINT}`);
    for (const d of found) {
      const model = modelOf(d)!;
      if (!byModel.has(model)) byModel.set(model, []);
      byModel.get(model)!.push(d);
    }
  }
  if (byModel.size === 0 && options.folder !== undefined) throw new errors.SY_ERR_MODULE(options.folder, `no module in it exports a service; ${EXPORT_HINT}`);
  // Stable order: the models in their canonical order.
  return new Map(MODEL_KINDS.filter((m) => byModel.has(m)).map((m) => [m, byModel.get(m)!]));
}

/** The service modules of a folder (for `dev`): every .ts/.mts/.js/.mjs file but tests and declarations. */
export function modulesOfFolder(dir: string): string[] {
  const root = resolve(dir);
  const names = readdirSync(root).filter((n) => /\.(ts|mts|js|mjs)$/.test(n) && !/\.d\.ts$|\.test\./.test(n)).sort();
  if (names.length === 0) throw new errors.SY_ERR_USAGE(`${root} holds no service modules (*.ts or *.js files exporting services)`);
  return names.map((n) => join(root, n));
}
