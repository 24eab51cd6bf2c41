// The five models' runners, loaded only when a module exports a definition of that model:
// the one place above the models that names them.

import { errors } from '../errors.js';
import type { ModelKind } from '../observability/observer.js';
import type { ModelRunner } from '../runtime/model.js';

const loaders: Partial<Record<ModelKind, () => Promise<{ runner: ModelRunner<never, never> }>>> = {
  task: () => import('../models/task/runner.js'),
};

export async function loadRunner(model: ModelKind): Promise<ModelRunner> {
  const load = loaders[model];
  if (!load) throw new errors.SY_ERR_USAGE(`internal: no runner for the ${model} model`);
  return (await load()).runner as unknown as ModelRunner;
}
