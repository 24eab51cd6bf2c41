// Typed case routing (SPECS.md §1.2): true, 1 and "1" are three different cases, as in
// slingshot's CaseKey enum. The key of a case is the config layer's, so the system-map
// check, the config client and the router judge a case the same way.

import { errors } from '../../errors.js';
import { caseKey } from '../../config/case-value.js';
import type { CaseValue, QueueConfig } from '../../config/config-source.js';

/** The routing key of a case value; throws SY_ERR_BAD_CASE for floats, null and the rest. */
export function routingKey(value: unknown): string {
  const key = caseKey(value);
  if (key === undefined) throw new errors.SY_ERR_BAD_CASE(describeCase(value));
  return key;
}

/** A case value as a person reads it: true, 3, "three". */
export function describeCase(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export class RouteMap {
  private readonly routes = new Map<string, readonly string[]>();
  // The boolean cases, looked up once: no key string made and hashed per message (~80 ns).
  readonly #onTrue: readonly string[] | undefined;
  readonly #onFalse: readonly string[] | undefined;

  constructor(config: QueueConfig) {
    // Later entries win on a duplicate case, as in slingshot; the system-map check refuses duplicates earlier.
    for (const entry of config.out) this.routes.set(routingKey(entry.case), entry.queues);
    this.#onTrue = this.routes.get(routingKey(true));
    this.#onFalse = this.routes.get(routingKey(false));
  }

  /** The queues a case goes to, or undefined when no route names it. */
  queuesFor(value: CaseValue): readonly string[] | undefined {
    if (value === true) return this.#onTrue;
    if (value === false) return this.#onFalse;
    return this.routes.get(routingKey(value));
  }

  /** Every outbound queue, each once. */
  allQueues(): string[] {
    return [...new Set([...this.routes.values()].flat())];
  }
}
