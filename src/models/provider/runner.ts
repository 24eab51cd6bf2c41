// The provider model's runner: what `switchyard run`, `dev` and `provider run` call with the
// provider definitions of the modules they load. One component per definition, all on the
// acomm facet of the unix transport the registry opens, with the "provider" settings
// section. Like the Go provider, a process usually runs one provider; several need service
// names of their own (defineProvider(name, ...)), since the name is part of every socket path,
// and then service_name in the settings names none of them.

import { errors } from '../../errors.js';
import { INSTANCE_ENV, isInstance } from '../../runtime/instances.js';
import type { ModelRunner } from '../../runtime/model.js';
import { ProviderComponent } from './component.js';
import type { ProviderDefinition } from './define.js';
import { providerSettingsSection, type ProviderSettings } from './settings.js';

/** Each definition's service name: service_name from the settings for one provider, else the name the module gives it. */
function serviceNames(definitions: readonly ProviderDefinition[], settings: ProviderSettings): string[] {
  if (definitions.length === 1) {
    const name = settings.service_name ?? definitions[0]!.defaultServiceName;
    if (name === undefined) {
      throw new errors.SY_ERR_SETTINGS('provider.service_name is missing: set --service-name (-n, --service_name), SWITCHYARD_PROVIDER_SERVICE_NAME or "service_name" in the config file, or name the provider in defineProvider(name, ...)');
    }
    return [name];
  }
  const names = definitions.map((d) => d.defaultServiceName);
  if (names.some((n) => n === undefined)) throw new errors.SY_ERR_PROVIDER_DEFINITIONS(`${definitions.length} providers need a name each; name every one with defineProvider(name, ...)`);
  if (new Set(names).size !== names.length) throw new errors.SY_ERR_PROVIDER_DEFINITIONS(`their names must differ (got ${names.join(', ')}): the name is part of every socket path`);
  if (settings.service_name !== undefined) throw new errors.SY_ERR_PROVIDER_DEFINITIONS(`provider.service_name (${settings.service_name}) names one provider, but ${definitions.length} run here; leave it unset and name each in defineProvider(name, ...)`);
  return names as string[];
}

/** This process's copy number under `--instances`, or undefined outside a supervisor. */
function instanceNumber(): number | undefined {
  if (!isInstance()) return undefined;
  const n = Number(process.env[INSTANCE_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export const runner: ModelRunner<ProviderDefinition, ProviderSettings> = {
  model: 'provider',
  settings: providerSettingsSection,
  needs: ['acomm'],
  defaultTransport: 'unix',

  async components(definitions, ctx): Promise<ProviderComponent[]> {
    if (definitions.length === 0) return [];
    const names = serviceNames(definitions, ctx.settings);
    const { name: transportName, facet: acomm } = await ctx.transports.facet(ctx.transport, 'provider', runner.needs, 'acomm');
    const instance = instanceNumber();
    return definitions.map((definition, i) => {
      const service = names[i]!;
      return new ProviderComponent({
        definition, acomm, transport: transportName,
        settings: { ...ctx.settings, service_name: service },
        logger: ctx.logger.child({ service }),
        emitter: ctx.observer.for({ model: 'provider', service, transport: transportName }),
        ...(instance !== undefined ? { instance } : {}),
      });
    });
  },

  async edges(definitions, ctx) {
    // Without serving: the tasks come from registerTasks, which only registers handlers.
    const names = serviceNames(definitions, ctx.settings);
    // Opening the unix transport connects nothing: it only loads its functions.
    const { name: transportName, facet: acomm } = await ctx.transports.facet(ctx.transport, 'provider', runner.needs, 'acomm');
    return Promise.all(definitions.map(async (definition, i) => {
      const component = new ProviderComponent({
        definition, acomm, transport: transportName, settings: { ...ctx.settings, service_name: names[i]! }, logger: ctx.logger,
        emitter: ctx.observer.for({ model: 'provider', service: names[i]!, transport: transportName }),
      });
      await component.register();
      return { service: names[i]!, ...component.edges() };
    }));
  },
};
