import { transportConformance } from '../conformance/transport-conformance.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

transportConformance('memory', {
  async create() {
    const t = new MemoryTransport();
    await t.start();
    return t;
  },
});
