// One rule for queue, topic, group and subject names on every transport: printable, no
// whitespace, at most 255 bytes (AMQP's short-string limit, the tightest of our brokers).

import { errors } from '../errors.js';

const FORBIDDEN = /[\s\u0000-\u001f\u007f]/;

export function validateName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 255 || FORBIDDEN.test(name)) {
    throw new errors.SY_ERR_BAD_NAME(what, String(name));
  }
}
