// The provider side of bench/go-provider.ts, as a module for `switchyard provider run`
// (so the benchmark starts our provider exactly as a user does, --instances included):
// the CPUInfo task of the Go provider-simple (examples/simple/simple.go), with the same
// check (guest_id required) and the same result (two fixed CPUs).

import { defineProvider } from '../dist/models/provider/mod.js';

export default defineProvider('provider-ours', (server) => {
  server.registerTask('CPUInfo', (req) => {
    const args = req.args as { guest_id?: unknown } | null;
    if (typeof args?.guest_id !== 'string' || args.guest_id === '') throw new Error('missing guest_id');
    return [
      { processor: 0, mhz: 2600 },
      { processor: 1, mhz: 2600 },
    ];
  });
});
