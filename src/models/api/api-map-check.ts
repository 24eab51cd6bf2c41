// apiService(apis, setup) and createBus({ apis }) take the API declarations by key: `{ calc }`.
// A plausible slip is `apiService({ apis: { calc } }, ...)` (the shape of createBus's
// options); without this check it failed deep inside with "Cannot convert undefined or null
// to object" (issue 15). Refused at once with what was passed and the right shape.

import { errors } from '../../errors.js';
import { isApi } from './define.js';

/** What a value is, for the message (never its content: it may hold anything). */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return typeof value;
  const keys = Object.keys(value);
  return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
}

/** Throws SY_ERR_API_MAP unless `apis` is an object whose every value is a defineApi() declaration. */
export function checkApiMap(where: string, apis: unknown): void {
  if (apis === null || typeof apis !== 'object' || Array.isArray(apis)) throw new errors.SY_ERR_API_MAP(where, describeValue(apis));
  for (const [key, value] of Object.entries(apis)) {
    if (isApi(value)) continue;
    const nested = value !== null && typeof value === 'object' && Object.values(value).length > 0 && Object.values(value).every(isApi);
    throw new errors.SY_ERR_API_MAP(
      where,
      `key "${key}" holding ${describeValue(value)}, not an API declaration${nested ? ` (it holds declarations: pass them directly, { ${Object.keys(value).join(', ')} })` : ''}`,
    );
  }
}
