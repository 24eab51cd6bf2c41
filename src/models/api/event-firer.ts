// Firing events: validate the parameters (against the declaration here, else the schema on
// the bus), hand the event to the transport and wait until it is stored for every listener
// group, within event_fire_timeout. Reports "sent" (output api.event) to the observer
// stream once stored.

import { errors } from '../../errors.js';
import { validate } from '../../schema/mod.js';
import type { BusEvent } from '../../transports/bus/bus-transport.js';
import { uuid1 } from '../../transports/bus/uuid1.js';
import type { BusContext } from './bus-context.js';
import { kwargsToBus, toBus } from './codec.js';
import { DeadlineTracker } from './deadlines.js';

export class EventFirer {
  private readonly deadlines = new DeadlineTracker();

  constructor(private readonly bus: BusContext) {}

  async fire(apiName: string, eventName: string, params: Record<string, unknown>): Promise<void> {
    const { bus } = this;
    bus.requireRunning('fire', apiName, eventName);
    const settings = bus.settingsOf(apiName);
    let parsed: unknown = params;
    if (settings.validate.outgoing) {
      const schema = bus.schemas.eventParams(apiName, eventName);
      if (schema) parsed = validate(schema.schema, schema.local ? params : toBus(params), `Event ${apiName}.${eventName} parameters`);
      else bus.schemas.unknownMember(apiName, eventName, 'event', settings);
    }
    const event: BusEvent = { id: uuid1(), api: apiName, event: eventName, version: bus.schemas.declaration(apiName)?.version ?? 1, kwargs: kwargsToBus(parsed as Record<string, unknown>) };
    await this.deadlines.within(bus.transportOf(apiName).fire(event), settings.eventFireTimeoutMs, () =>
      new errors.SY_ERR_REQUEST_TIMEOUT(`event ${apiName}.${eventName}`, settings.eventFireTimeoutMs, `event_fire_timeout (apis.${apiName}.event_fire_timeout in the bus config, seconds; settings.eventFireTimeoutMs in code)`));
    bus.recent.remember('fired', apiName, eventName, event.id);
    if (bus.emitter.active) bus.emitter.emit({ type: 'sent', output: `${apiName}.${eventName}`, id: event.id });
    if (bus.taps.list.length > 0) for (const t of bus.taps.list) t.fired?.(apiName, eventName, parsed, event.id);
  }
}
