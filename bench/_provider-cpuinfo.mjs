// bench/_provider-cpuinfo.ts in plain JavaScript, for runs where loading TypeScript costs
// too much (under valgrind, node starts ~50 times slower; tsx's compile dominates).
import { defineProvider } from '../dist/models/provider/mod.js';

export default defineProvider('provider-ours', (server) => {
  server.registerTask('CPUInfo', (req) => {
    const args = req.args;
    if (typeof args?.guest_id !== 'string' || args.guest_id === '') throw new Error('missing guest_id');
    return [
      { processor: 0, mhz: 2600 },
      { processor: 1, mhz: 2600 },
    ];
  });
});
