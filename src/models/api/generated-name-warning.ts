// Listener groups are named `{serviceName}-{listenerName}`, and events wait in a group for
// its members. A service name with a placeholder that changes on every start ({friendly},
// {random4}, {random8}, {random16}, {pid}; Lightbus's default is "{friendly}") makes a new
// group at every start: events fired while the process was down go to the old group, which
// no one reads again, so they look lost. Said once at start, with the fix, when the bus
// has listeners (issue 15).

import type { Logger } from '../../observability/logger.js';

const CHANGING = /\{(friendly|random4|random8|random16|pid)\}/;

/** Whether a service name template gives a new name on each start. */
export function isGeneratedName(template: string): boolean {
  return CHANGING.test(template);
}

/**
 * Warns when listeners run under a service name made from `template` with a placeholder
 * that changes on each start. Returns whether it warned.
 */
export function warnIfGeneratedName(logger: Logger, template: string, serviceName: string, listeners: readonly string[]): boolean {
  if (listeners.length === 0 || !isGeneratedName(template)) return false;
  logger.warn(
    { serviceName, template, listeners },
    `listeners ${listeners.join(', ')} run under the generated service name "${serviceName}" (from "${template}"): their listener groups (${serviceName}-<listener>) are new at every start, so events fired while this process is stopped are not delivered to it after a restart. Give the service a fixed name: --service-name <name>, SWITCHYARD_SERVICE_NAME, LIGHTBUS_SERVICE_NAME, or serviceName in the settings file`,
  );
  return true;
}
