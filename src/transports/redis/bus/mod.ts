// The bus protocol on Redis, wire-compatible with Lightbus.
export { RedisBusTransport } from './redis-bus-transport.js';
export type { RedisBusOptions } from './redis-bus-transport.js';
export type { StreamUse } from '../../../protocols/lightbus/names.js';
