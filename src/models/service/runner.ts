// The service model's runner: what `switchyard run`, `dev` and `service` call with the
// service definitions of the modules they load. One component per service, all on the
// sockets of the transport the registry opens ("zeromq" unless settings name "memory"), with
// the addresses, config and main mode of the "service" settings section. Like the original,
// a process usually runs one service; several share the section (the addresses file names
// each connection once, so their connection names must differ) and need names of their own.

import { errors } from '../../errors.js';
import type { ModelRunner } from '../../runtime/model.js';
import type { Component } from '../../runtime/runtime.js';
import { ServiceComponent } from './component.js';
import type { ServiceDefinition } from './definition.js';
import { normalizeAddresses } from './addresses.js';
import { serviceSettingsSection, type ServiceSettings } from './settings.js';
import { serviceEdges } from './wiring.js';

/** A definition's name: its own, or "service". */
function nameOf(definition: ServiceDefinition): string {
  return definition.name ?? 'service';
}

export const runner: ModelRunner<ServiceDefinition, ServiceSettings> = {
  model: 'service',
  settings: serviceSettingsSection,
  needs: ['sockets'],
  defaultTransport: 'zeromq',

  async components(definitions, ctx): Promise<Component[]> {
    if (definitions.length === 0) return [];
    const names = definitions.map(nameOf);
    if (new Set(names).size !== names.length) throw new errors.SY_ERR_SERVICE_DEFINITIONS(names.join(', '));
    const { name: transportName, facet: sockets } = await ctx.transports.facet(ctx.transport, 'service', runner.needs, 'sockets');
    const s = ctx.settings;
    return definitions.map((definition) => {
      const name = nameOf(definition);
      return new ServiceComponent({
        definition, name, sockets, transport: transportName, logger: ctx.logger,
        emitter: ctx.observer.for({ model: 'service', service: name, transport: transportName }),
        mainMode: s.mainMode, maxMessageSize: s.maxMessageSize, watchSigint: true,
        ...(s.addresses ? { addresses: s.addresses } : {}),
        ...(s.config ? { config: s.config } : {}),
      });
    });
  },

  async edges(definitions, ctx) {
    // Without running: the declared models (setup hooks may add more at start) and the addresses as given.
    let addresses;
    try {
      addresses = ctx.settings.addresses ? normalizeAddresses(ctx.settings.addresses) : undefined;
    } catch {
      addresses = undefined;
    }
    return definitions.map((d) => ({ service: nameOf(d), ...serviceEdges(d.connections ?? {}, d.states ?? {}, addresses) }));
  },
};
