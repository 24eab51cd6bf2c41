// Checks the connection and state models a service declares, before any socket opens, so a
// typo is an error naming the model and the key rather than a silent no-op. Like the
// original, a model may hold only the keys its type knows.

import { errors } from '../../errors.js';
import type { ConnectionModels, StateModels } from './definition.js';

const ARGS = ['arguments', 'requiredArguments', 'optionalArguments'];
const RETURNS = ['returnArguments', 'requiredReturnArguments', 'optionalReturnArguments'];

export const CONNECTION_KEYS: Record<'in' | 'out', Record<string, readonly string[]>> = {
  in: {
    replyer: ['connectionType', 'onNewRequest', ...ARGS, ...RETURNS],
    subscriber: ['connectionType', 'onNewMessage', 'topic', ...ARGS],
  },
  out: {
    requester: ['connectionType', 'timeoutMs', 'warnAfterMs', ...ARGS, ...RETURNS],
    publisher: ['connectionType', 'topic', 'isXPub', 'waitAfterCreationS', ...ARGS],
    external_request: ['connectionType', 'funcToCall', ...ARGS, ...RETURNS],
  },
};

// Every state type of 0.0.3 takes the optional creation argument `topic`; the out types also
// `is_x_pub` and `wait_after_creation_s`, as its publisher connection does.
export const STATE_KEYS: Record<'in' | 'out', Record<string, readonly string[]>> = {
  in: {
    full_update_in: ['stateType', 'topic', ...ARGS],
    delta_update_in: ['stateType', 'topic', 'snapshotTimeoutMs', ...ARGS],
  },
  out: {
    full_update_out: ['stateType', 'topic', 'isXPub', 'waitAfterCreationS', ...ARGS],
    delta_update_out: ['stateType', 'topic', 'isXPub', 'waitAfterCreationS', ...ARGS],
  },
};

/** The socket names addresses.json must give each type (fixed by the type, SPECS.md §2.2–2.3). */
export const ADDRESS_KEYS: Record<string, readonly string[]> = {
  replyer: ['replyer'],
  subscriber: ['subscriber'],
  requester: ['requester'],
  publisher: ['publisher'],
  external_request: [],
  full_update_out: ['publisher'],
  full_update_in: ['subscriber'],
  delta_update_out: ['publisher', 'replyer'],
  delta_update_in: ['subscriber', 'requester'],
};

const FUNCTIONS: Record<string, string> = { replyer: 'onNewRequest', subscriber: 'onNewMessage', external_request: 'funcToCall' };

function checkOne(where: string, what: string, model: unknown, typeKey: 'connectionType' | 'stateType', allowed: Record<string, readonly string[]>, otherSide: Record<string, readonly string[]>): void {
  if (typeof model !== 'object' || model === null) throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what} must be an object with a ${typeKey}`);
  const m = model as Record<string, unknown>;
  const type = m[typeKey];
  const keys = typeof type === 'string' ? allowed[type] : undefined;
  if (!keys) {
    const hint = typeof type === 'string' && otherSide[type] ? `; "${type}" belongs on the other side (in ↔ out)` : '';
    throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what} has ${typeKey} ${JSON.stringify(type)}; use one of ${Object.keys(allowed).map((k) => JSON.stringify(k)).join(', ')}${hint}`);
  }
  for (const key of Object.keys(m)) {
    if (m[key] !== undefined && !keys.includes(key)) throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what} (${String(type)}) has an unknown key ${JSON.stringify(key)}; allowed: ${keys.join(', ')}`);
  }
  const fn = FUNCTIONS[type as string];
  if (fn && typeof m[fn] !== 'function') throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what} (${String(type)}) needs ${fn}: a function`);
  if (m.arguments !== undefined && (m.requiredArguments !== undefined || m.optionalArguments !== undefined)) {
    throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what} gives both arguments (zod) and required/optionalArguments; use one`);
  }
  if (m.returnArguments !== undefined && (m.requiredReturnArguments !== undefined || m.optionalReturnArguments !== undefined)) {
    throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what} gives both returnArguments (zod) and required/optionalReturnArguments; use one`);
  }
  if (m.topic !== undefined && typeof m.topic !== 'string') throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what}: topic must be a string`);
  if (m.isXPub !== undefined && typeof m.isXPub !== 'boolean') throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what}: isXPub must be true or false`);
  for (const k of ['waitAfterCreationS', 'timeoutMs', 'warnAfterMs', 'snapshotTimeoutMs']) {
    if (m[k] !== undefined && !(typeof m[k] === 'number' && m[k] >= 0)) throw new errors.SY_ERR_SERVICE_DEFINITION(where, `${what}: ${k} must be a number ≥ 0`);
  }
}

export function checkModels(where: string, connections: ConnectionModels, states: StateModels): void {
  for (const side of ['in', 'out'] as const) {
    const other = side === 'in' ? 'out' : 'in';
    for (const [name, model] of Object.entries(connections[side] ?? {})) {
      checkOne(where, `connections.${side}.${name}`, model, 'connectionType', CONNECTION_KEYS[side], CONNECTION_KEYS[other]);
    }
    for (const [name, model] of Object.entries(states[side] ?? {})) {
      checkOne(where, `states.${side}.${name}`, model, 'stateType', STATE_KEYS[side], STATE_KEYS[other]);
    }
  }
}
