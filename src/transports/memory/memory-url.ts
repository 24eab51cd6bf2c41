// The memory transport's own settings carried in its spec, so that one string in the
// registry's vocabulary says everything about a transport (the registry opens one
// transport per distinct string): `memory?max_length=1000&max_bytes=1048576&overflow=reject-publish`.
// Bare `memory` takes the defaults (MEMORY_QUEUE_DEFAULTS).

import { errors } from '../../errors.js';
import type { MemoryTransportOptions } from './memory-transport.js';

const PARAMS = ['max_length', 'max_bytes', 'overflow'] as const;

/** `memory` with the options as query parameters; options left unset add nothing. */
export function memorySpec(options: MemoryTransportOptions = {}): string {
  const params: string[] = [];
  if (options.maxLength !== undefined) params.push(`max_length=${options.maxLength}`);
  if (options.maxBytes !== undefined) params.push(`max_bytes=${options.maxBytes}`);
  if (options.overflow !== undefined) params.push(`overflow=${options.overflow}`);
  return params.length === 0 ? 'memory' : `memory?${params.join('&')}`;
}

/** The options a memory spec carries; throws SY_ERR_SETTINGS naming a parameter it cannot use. */
export function memoryOptionsOfSpec(spec: string): MemoryTransportOptions {
  const at = spec.indexOf('?');
  if (at < 0) return {};
  const params = new URLSearchParams(spec.slice(at + 1));
  const bad = (name: string, value: string, allowed: string) =>
    new errors.SY_ERR_SETTINGS(`transport ${JSON.stringify(spec)}: ${name}=${JSON.stringify(value)} is not valid; use ${allowed}`);
  const options: { maxLength?: number; maxBytes?: number; overflow?: 'back-pressure' | 'reject-publish' } = {};
  for (const [name, value] of params) {
    switch (name) {
      case 'max_length':
      case 'max_bytes': {
        const n = Number(value);
        if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw bad(name, value, 'a whole number ≥ 1');
        if (name === 'max_length') options.maxLength = n;
        else options.maxBytes = n;
        break;
      }
      case 'overflow':
        if (value !== 'back-pressure' && value !== 'reject-publish') throw bad(name, value, 'back-pressure or reject-publish');
        options.overflow = value;
        break;
      default:
        throw new errors.SY_ERR_SETTINGS(`transport ${JSON.stringify(spec)}: unknown parameter ${JSON.stringify(name)}; known: ${PARAMS.join(', ')}`);
    }
  }
  return options;
}
