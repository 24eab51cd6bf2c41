// A provider in the manner of mistifyio/provider's examples/simple: three tasks on unix
// sockets under socket_dir. Run it with
//   switchyard provider run examples/provider-simple/provider.ts --config examples/provider-simple/config.json
// and ask it from another terminal:
//   switchyard provider request CPUInfo '{"guest_id":"abc"}' -s /tmp/mistify
//   switchyard provider request Lines '{"count":3}' -s /tmp/mistify --stream
import { cpus } from 'node:os';
import { defineProvider, stream } from 'switchyardjs/provider';

export default defineProvider('provider-simple', (server) => {
  // A plain result: any JSON value goes back in the response's "result".
  server.registerTask('CPUInfo', (req) => {
    const args = (req.args ?? {}) as { guest_id?: unknown };
    if (typeof args.guest_id !== 'string' || args.guest_id === '') throw new Error('args.guest_id is required: send {"guest_id": "..."}');
    return { guest_id: args.guest_id, cpus: cpus().map((c) => ({ model: c.model, mhz: c.speed })) };
  });

  // A stream: the response carries a single-use unix socket URL in "stream_url"; the caller
  // connects to it once and reads the raw bytes to EOF.
  server.registerTask('Lines', (req) => {
    const count = Number((req.args as { count?: unknown } | null)?.count ?? 10);
    if (!Number.isInteger(count) || count < 0 || count > 100_000) throw new Error('args.count must be a whole number from 0 to 100000');
    return stream((function* () {
      for (let i = 1; i <= count; i++) yield `line ${i}\n`;
    })());
  });

  // A task that calls another through the coordinator and waits for its response.
  server.registerTask('CPUCount', async (req, { request }) => {
    const { result } = await request('CPUInfo', req.args);
    return { count: (result as { cpus: unknown[] }).cpus.length };
  });
});
