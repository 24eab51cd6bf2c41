import { MemoryTransport } from '../../src/transports/memory/mod.js';
import { BusOverTransport } from '../../src/transports/bus/bus-over-transport.js';
import { busConformance } from './bus-conformance.js';

// One memory transport per suite: every bus of the suite is a process on the same bus.
const shared = new BusOverTransport(new MemoryTransport());
busConformance('memory', { transport: () => shared });
