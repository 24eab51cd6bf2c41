// The models `run` and `dev` know: each one's runner, loaded only when a module exports a
// definition of that model, and the flags of its settings section (light lists, known before
// any module loads). The one place above the models that names them.

import type { FlagSpec } from '../config/settings/flag-spec.js';
import { errors } from '../errors.js';
import { API_FLAGS } from '../models/api/flags.js';
import { TASK_FLAGS } from '../models/task/flags.js';
import { WORKER_FLAGS } from '../models/worker/flags.js';
import type { ModelKind } from '../observability/observer.js';
import type { ModelRunner } from '../runtime/model.js';

const loaders: Partial<Record<ModelKind, () => Promise<{ runner: ModelRunner<never, never> }>>> = {
  worker: () => import('../models/worker/runner.js'),
  api: () => import('../models/api/runner.js'),
  service: () => import('../models/service/runner.js'),
  task: () => import('../models/task/runner.js'),
  provider: () => import('../models/provider/runner.js'),
};

/** Each model's flags on `run` and `dev`, by section. */
export const MODEL_FLAGS: Readonly<Partial<Record<ModelKind, readonly FlagSpec[]>>> = {
  worker: WORKER_FLAGS,
  api: API_FLAGS,
  task: TASK_FLAGS,
};

export async function loadRunner(model: ModelKind): Promise<ModelRunner> {
  const load = loaders[model];
  if (!load) throw new errors.SY_ERR_USAGE(`switchyard run and dev do not run ${model} definitions yet: use \`switchyard ${model} run\``);
  return (await load()).runner as unknown as ModelRunner;
}
