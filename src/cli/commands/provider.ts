// `switchyard provider run <module>`: starts the provider a module exports
// (defineProvider(...)) with its configuration from --config, SWITCHYARD_PROVIDER_* and
// flags, until SIGINT/SIGTERM, which remove its task sockets before it exits.
// With --instances N (or auto) it runs N copies under one supervisor (node:cluster): the
// supervisor checks the module and configuration and prepares the task socket paths
// (refusing a live one, clearing a stale one), then every copy serves the same task
// sockets, each accepting on the shared listening socket (the kernel picks the copy, so
// the supervisor does no work per connection); each copy has a response socket of its own.
// `switchyard provider request <task> [args]`: one request through the coordinator client.

import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { errors } from '../../errors.js';
// Only the configuration keys are needed to define the commands; the provider model, the
// unix transport, the logger and the supervisor are loaded when a command runs.
import { GO_FLAG_KEYS as PROVIDER_GO_FLAG_KEYS, providerEnvName, SCALAR_KEYS as PROVIDER_CONFIG_KEYS } from '../../models/provider/config.js';
import type { ProviderDefinition } from '../../models/provider/mod.js';

/** Task folders under socket_dir: every folder but the provider's own (response, streams). */
async function listTaskFolders(socketDir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  try {
    const entries = await readdir(socketDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && e.name !== 'response' && e.name !== 'streams').map((e) => e.name).sort();
  } catch {
    return [];
  }
}

type Flags = Record<string, string | undefined>;

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A flag's value by config key: ours (--socket-dir, commander's socketDir) or the Go
 * provider's spelling (--socket_dir, kept as socket_dir). Both at once must agree.
 */
function flagValue(flags: Flags, key: string, ours = camel(key)): string | undefined {
  const a = flags[ours];
  const b = flags[key];
  if (a !== undefined && b !== undefined && a !== b) {
    throw new errors.SY_ERR_USAGE(`--${ours === 'config' ? 'config' : key.replace(/_/g, '-')} ${JSON.stringify(a)} and --${key} ${JSON.stringify(b)} disagree; give one of them`);
  }
  return a ?? b;
}

/** Flag values by config key. */
function configFlags(flags: Flags): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of PROVIDER_CONFIG_KEYS) out[key] = flagValue(flags, key);
  return out;
}

/**
 * The same options spelt with underscores, as the Go provider's pflag defines them
 * (--service_name, --socket_dir, --config_file, …), so one command line starts either
 * provider. Hidden from --help; the README lists them.
 */
function withGoSpellings(command: Command, keys: readonly string[]): Command {
  for (const key of keys) {
    if (!key.includes('_')) continue;
    command.addOption(new Option(`--${key} <value>`).hideHelp());
  }
  return command;
}

function withConfigFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', `JSON config file; env ${providerEnvName('config_file')}`)
    .option('-n, --service-name <name>', `name the provider registers as; env ${providerEnvName('service_name')}`)
    .option('-s, --socket-dir <dir>', `base folder of task sockets (default /tmp/mistify); env ${providerEnvName('socket_dir')}`)
    .option('-p, --default-priority <n>', `priority of tasks without their own (default 50; higher is preferred); env ${providerEnvName('default_priority')}`)
    .option('-u, --coordinator-url <url>', `where requests to other tasks go (default: straight to the socket folder); env ${providerEnvName('coordinator_url')}`)
    .option('-l, --log-level <level>', `log level (default warning); env ${providerEnvName('log_level')}`)
    .option('--default-timeout <s>', `handler time limit in seconds (default 60; 0 = none); env ${providerEnvName('default_timeout')}`)
    .option('-t, --request-timeout <s>', `wait for responses to requests, seconds (0 = 60); env ${providerEnvName('request_timeout')}`)
    .option('--max-frame-bytes <n>', `largest frame body accepted (default 16777216); env ${providerEnvName('max_frame_bytes')}`)
    .option('--socket-mode <octal>', `socket file mode (default 0660); env ${providerEnvName('socket_mode')}`)
    .option('--response-hook-allow <entries>', `comma-separated hosts, *.suffix, host:port, IPs, CIDRs, unix:/folder responses may go to (default: any); env ${providerEnvName('response_hook_allow')}`)
    .option('--max-open-streams <n>', `stream sockets announced and not yet read, at most (default 256); env ${providerEnvName('max_open_streams')}`)
    .option('--stream-idle-timeout <s>', `how long a stream socket waits for its reader, seconds (default 60; 0 = forever); env ${providerEnvName('stream_idle_timeout')}`);
}

/** Our options and their Go spellings (config_file for --config, and every key with an underscore). */
function withProviderFlags(command: Command): Command {
  return withGoSpellings(withConfigFlags(command), [...new Set<string>([...PROVIDER_GO_FLAG_KEYS, ...PROVIDER_CONFIG_KEYS])]);
}

async function loadDefinitions(path: string): Promise<ProviderDefinition[]> {
  const [{ importModule }, { isProviderDefinition }] = await Promise.all([import('../load-services.js'), import('../../models/provider/mod.js')]);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(resolve(path));
  } catch (err) {
    throw new errors.SY_ERR_MODULE(path, `importing it failed: ${(err as Error).message}`);
  }
  const found = [...new Set(Object.values(mod).filter(isProviderDefinition))];
  if (found.length === 0) throw new errors.SY_ERR_MODULE(path, 'it exports no provider; add `export default defineProvider((p) => { p.registerTask(name, handler) })`');
  return found;
}

export function providerCommand(program: Command, out: (line: string) => void): void {
  const cmd = program.command('provider').description('task providers on unix sockets (mistifyio/provider and acomm compatible)');

  withProviderFlags(cmd.command('run'))
    .description('serve the tasks a module exports (defineProvider) on {socket_dir}/{task}/{priority}-{service}.sock until SIGINT/SIGTERM')
    .argument('<module>', 'TypeScript or JavaScript module exporting defineProvider(...)')
    .addHelpText('after', `
Examples:
  switchyard provider run examples/provider-simple/provider.ts -n provider-simple -s /tmp/mistify
  switchyard provider run provider.ts --config config.json
  switchyard provider run provider.ts --config_file config.json --service_name simple   (the Go provider's flag names)
  switchyard provider run provider.ts -n simple --instances auto   (one copy per core, sharing the task sockets)`)
    .option('--instances <n|auto>', 'run N copies under one supervisor (auto: one per core); they share the task sockets, and a copy that dies is restarted')
    .action(async (module: string, flags: Flags) => {
      const [definition, ...more] = await loadDefinitions(module);
      const [{ loadProviderConfig, provider }, { createLogger }, { INSTANCE_ENV, isInstance, parseInstances, superviseInstances }, { stopOnSignals }, { prepareSocketPath }] = await Promise.all([
        import('../../models/provider/mod.js'), import('../../observability/logger.js'), import('../../runtime/instances.js'),
        import('../../runtime/lifecycle.js'), import('../../transports/unix/mod.js'),
      ]);
      if (more.length > 0) throw new errors.SY_ERR_MODULE(module, `it exports ${more.length + 1} providers; run one per process (each has its own service_name)`);
      const config = loadProviderConfig({
        configFile: flagValue(flags, 'config_file', 'config'),
        flags: configFlags(flags),
        defaults: definition!.defaultServiceName ? { service_name: definition!.defaultServiceName } : {},
      });
      const logger = createLogger({ level: config.logLevel, service: config.serviceName, destination: 2 });
      const instances = parseInstances(flags.instances);
      const copy = isInstance() ? Number(process.env[INSTANCE_ENV]) : undefined;
      const server = provider(config, { logger, ...(copy !== undefined ? { instance: copy } : {}) });
      await definition!.registerTasks(server);
      if (instances > 1 && copy === undefined) {
        // The supervisor: the copies bind through it, so the paths are made ready here, once.
        if (server.registeredTasks().length === 0) throw new errors.SY_ERR_MODULE(module, 'its provider registers no task; call p.registerTask(name, handler)');
        for (const task of server.registeredTasks()) {
          if (await prepareSocketPath(server.taskSocketPath(task))) logger.warn({ task, socket: server.taskSocketPath(task) }, 'replaced a stale socket left by a process that is gone');
        }
        process.exitCode = await superviseInstances({ instances, logger, connections: 'kernel' });
        return;
      }
      await server.start();
      out(`provider ${config.serviceName} serving ${server.registeredTasks().map((t) => server.taskSocketPath(t)).join(', ')}`);
      await stopOnSignals(server, {
        onFirstSignal: (signal) => logger.info({ signal }, 'stopping: removing task sockets, finishing requests in flight (signal again to exit at once)'),
        onSecondSignal: (signal) => logger.warn({ signal }, 'second signal: exiting now'),
        // A copy stops on the supervisor's SIGTERM only: a terminal's Ctrl-C reaches the whole group.
        ...(copy !== undefined ? { signals: ['SIGTERM'] as const } : {}),
      }).stopped;
    });

  cmd.command('list')
    .description('list the providers registered under a socket folder: task, priority, service, live or stale')
    .argument('[task...]', 'tasks to list (default: every task folder)')
    .option('-s, --socket-dir <dir>', `base folder of task sockets (default /tmp/mistify); env ${providerEnvName('socket_dir')}`)
    .addOption(new Option('--socket_dir <dir>').hideHelp())
    .action(async (tasks: string[], flags: Flags) => {
      const [{ discoverProviders }, { probeSocket }] = await Promise.all([import('../../models/provider/mod.js'), import('../../transports/unix/mod.js')]);
      const socketDir = resolve(flagValue(flags, 'socket_dir') ?? process.env[providerEnvName('socket_dir')] ?? '/tmp/mistify');
      const names = tasks.length > 0 ? tasks : await listTaskFolders(socketDir);
      for (const task of names) {
        for (const p of await discoverProviders(socketDir, task)) {
          // A probe is one connection that sends nothing; providers close it without running anything.
          out(`${task}\t${p.priority}\t${p.service}\t${(await probeSocket(p.path)) === 'live' ? 'live' : 'stale'}\t${p.path}`);
        }
      }
    });

  cmd.command('request')
    .description('send one request to the best live provider of a task and print the response')
    .argument('<task>', 'task name')
    .argument('[args]', 'args as JSON', 'null')
    .option('-s, --socket-dir <dir>', `base folder of task sockets (default /tmp/mistify); env ${providerEnvName('socket_dir')}`)
    .option('--timeout <s>', 'seconds to wait for the response', '60')
    .option('--stream', 'when the response has a stream, print its bytes instead of the response')
    .addOption(new Option('--socket_dir <dir>').hideHelp())
    .action(async (task: string, argsText: string, flags: Flags & { stream?: boolean }) => {
      let args: unknown;
      try {
        args = JSON.parse(argsText);
      } catch (err) {
        throw new errors.SY_ERR_USAGE(`args ${JSON.stringify(argsText)} is not JSON (${(err as Error).message}); quote it, e.g. '{"guest_id":"abc"}'`);
      }
      const timeout = Number(flags.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new errors.SY_ERR_USAGE(`--timeout must be a positive number of seconds, got ${String(flags.timeout)}`);
      const socketDir = resolve(flagValue(flags, 'socket_dir') ?? process.env[providerEnvName('socket_dir')] ?? '/tmp/mistify');
      const { coordinatorClient } = await import('../../models/provider/mod.js');
      const client = await coordinatorClient({ socketDir, timeoutMs: timeout * 1000 });
      try {
        const r = await client.request(task, args);
        if (flags.stream && r.streamUrl) process.stdout.write(await client.readStream(r.streamUrl));
        else out(JSON.stringify({ id: r.id, provider: r.provider.path, result: r.result, stream_url: r.streamUrl }));
      } finally {
        await client.stop();
      }
    });
}
