// The task model's runner: what `switchyard run` and `dev` call with the task-service
// definitions of the modules they load. It builds one component per task service on the
// HTTP transport the registry opens, with the options of the "task" settings section.
// One task service per process (an engine knows a service by its URL and port); other
// models may run beside it.

import { errors } from '../../errors.js';
import type { ModelRunner } from '../../runtime/model.js';
import type { Component } from '../../runtime/runtime.js';
import { dotEnvLayers } from './dot-env.js';
import { TASK_FLAGS } from './flags.js';
import { s3StoreOpener } from './s3-stores.js';
import { taskServiceOptions, taskSettingsSection, type TaskSettings } from './settings.js';
import { TASK_EDGES } from './task-events.js';
import { TaskServiceComponent } from './task-service-component.js';
import type { TaskServiceDefinition } from './task-service.js';

export const runner: ModelRunner<TaskServiceDefinition, TaskSettings> = {
  model: 'task',
  settings: taskSettingsSection,
  flags: TASK_FLAGS,
  // The Core engine's services read .env and ../.env (weaker than settings files).
  async originalLayers(_first, { cwd }) {
    return dotEnvLayers(cwd);
  },
  needs: ['http'],
  defaultTransport: 'http',

  async components(definitions, ctx): Promise<Component[]> {
    if (definitions.length === 0) return [];
    if (definitions.length > 1) throw new errors.SY_ERR_TASK_SERVICES(definitions.map((d) => `${d.slug} (task service)`).join(', '));
    const definition = definitions[0]!;
    const { name: transportName, facet: http } = await ctx.transports.facet(ctx.transport, 'task', runner.needs, 'http');
    const options = await taskServiceOptions(ctx.settings);
    return [new TaskServiceComponent({
      definition, options, http, transport: transportName,
      openStore: await s3StoreOpener(), logger: ctx.logger, observer: ctx.observer,
    })];
  },

  async edges(definitions) {
    return definitions.map((d) => ({ service: d.slug, ...TASK_EDGES }));
  },
};
