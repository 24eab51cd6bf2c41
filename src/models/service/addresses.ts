// addresses.json (SPECS.md §2.5): where each connection's and state's sockets are. Two shapes
// are in use:
//   0.0.3 (with states)   {"connections": {"in": {...}, "out": {...}}, "states": {"in": {...}, "out": {...}}}
//   0.0.19+ (no states)   {"in": {...}, "out": {...}}            (the connections only)
// Both are read; the flat one is taken as the connections of the nested one. A file that
// mixes the two is refused rather than half-read.

import { errors } from '../../errors.js';
import type { Addresses, FlatAddresses } from './definition.js';
import { ADDRESS_KEYS } from './model-check.js';

const NESTED = ['connections', 'states'];
const FLAT = ['in', 'out'];

/** The nested shape of either shape (after setupAddresses, which gets the file as it is). */
export function normalizeAddresses(raw: Addresses | FlatAddresses): Addresses {
  const keys = Object.keys(raw);
  const nested = keys.filter((k) => NESTED.includes(k));
  const flat = keys.filter((k) => FLAT.includes(k));
  if (nested.length > 0 && flat.length > 0) {
    throw new errors.SY_ERR_SERVICE_ADDRESSES(`the top level (${keys.map((k) => JSON.stringify(k)).join(', ')})`,
      'mixes the nested shape ("connections", "states") with the flat one of 0.0.19+ ("in", "out"); use one: {"connections": {"in": …, "out": …}, "states": …} or {"in": …, "out": …}');
  }
  if (flat.length > 0) return { connections: raw as FlatAddresses };
  return raw as Addresses;
}

/** The addresses of one connection or state, checked for the socket names its type needs. */
export function addressesOf(addresses: Addresses, group: 'connections' | 'states', side: 'in' | 'out', name: string, type: string): Record<string, string> {
  const needed = ADDRESS_KEYS[type] ?? [];
  if (needed.length === 0) return {};
  const entry = addresses[group]?.[side]?.[name];
  const path = `${group}.${side}.${name}`;
  if (!entry || typeof entry !== 'object') throw new errors.SY_ERR_SERVICE_ADDRESSES(path, `is missing (a ${type} needs ${needed.map((k) => JSON.stringify(k)).join(' and ')})`);
  for (const key of needed) {
    if (typeof entry[key] !== 'string' || entry[key] === '') throw new errors.SY_ERR_SERVICE_ADDRESSES(`${path}.${key}`, `is missing: a ${type} needs "${key}": "host:port"`);
  }
  return entry;
}
