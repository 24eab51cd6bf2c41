export { MemoryTransport } from './memory-transport.js';
export { MemorySockets } from './memory-sockets.js';
