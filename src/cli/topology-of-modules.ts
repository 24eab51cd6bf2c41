// The components a folder of service modules declares, of any model, without running them:
// each model's runner tells its definitions' edges (runtime/model.ts `edges`) from the same
// settings `run` resolves (the folder's sysmap.yaml for workers, addresses for services,
// declarations for task services and API schemas). What `switchyard topology <dir>` and
// `switchyard dashboard <dir>` draw for a mixed system.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConfigSource } from '../config/config-source.js';
import { loadSysMap, MapConfigSource } from '../config/sysmap.js';
import { errors } from '../errors.js';
import type { ComponentPorts } from '../observability/dashboard/topology.js';
import { createLogger } from '../observability/logger.js';
import { Observer, type ModelKind } from '../observability/observer.js';
import type { ModelRunner, RunContext } from '../runtime/model.js';
import { TransportRegistry } from '../runtime/registry.js';
import { loadDefinitions, modulesOfFolder } from './definitions.js';
import { createConfigSource, transportSpecOf } from './environment.js';
import { loadRunner } from './models.js';
import { resolveSystemSettings } from './system.js';

/** The components of the folder's modules; undefined when the folder holds none. */
export async function componentsOfModules(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<ComponentPorts[] | undefined> {
  let modules: string[];
  try {
    modules = modulesOfFolder(dir);
  } catch {
    return undefined;
  }
  const definitions = await loadDefinitions(modules, { folder: dir });
  const runners = new Map<ModelKind, ModelRunner>();
  for (const model of definitions.keys()) runners.set(model, await loadRunner(model));
  const logger = createLogger({ level: 'silent' });
  const { process: settings, sections } = await resolveSystemSettings(runners, {}, env, resolve(dir));
  const mapFile = join(dir, 'sysmap.yaml');
  let config: Promise<ConfigSource> | undefined;
  const configSource = () => (config ??= existsSync(mapFile) ? loadSysMap(mapFile).then((m) => new MapConfigSource(m)) : createConfigSource(settings));
  const transports = new TransportRegistry({ logger });
  const components: ComponentPorts[] = [];
  for (const [model, defs] of definitions) {
    const runner = runners.get(model)!;
    if (!runner.edges) continue;
    const section = sections.get(model) as { transport?: unknown } | undefined;
    const transport = await transportSpecOf(runner, section, { ...settings, transport: settings.transport === 'amqp' ? 'memory' : settings.transport }, configSource);
    const ctx: RunContext = {
      logger, observer: new Observer(), transports, settings: section, transport, stateDir: settings.stateDir, configSource,
      objectStore: () => Promise.reject(new errors.SY_ERR_USAGE('drawing a topology reads no objects')),
    };
    for (const c of await runner.edges(defs, ctx)) {
      components.push({ source: { model, service: c.service, transport: transportNameOf(transport) }, inputs: c.inputs, outputs: c.outputs });
    }
  }
  await transports.close();
  return components;
}

/** "amqp://user:…@host" → "amqp": the drawing names the kind of transport, never its address. */
function transportNameOf(spec: string): string {
  return /^[a-z]+/.exec(spec)?.[0] ?? spec;
}
