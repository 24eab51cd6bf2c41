export { MemoryTransport, MEMORY_QUEUE_DEFAULTS, type MemoryTransportOptions } from './memory-transport.js';
export { MemorySockets } from './memory-sockets.js';
