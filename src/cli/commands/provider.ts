// `switchyard provider run <module>`: starts the provider a module exports
// (defineProvider(...)) on the one runtime, until SIGINT/SIGTERM, which remove its task
// sockets before it exits. Its settings are the "provider" section of the settings system,
// from flags (ours and the Go provider's spellings), SWITCHYARD_PROVIDER_* and the Go
// provider's JSON config file (--config/--config_file), strongest first.
// With --instances N (or auto) it runs N copies under one supervisor (node:cluster): the
// supervisor checks the module and configuration and prepares the task socket paths
// (refusing a live one, clearing a stale one), then every copy serves the same task
// sockets, each accepting on the shared listening socket (the kernel picks the copy, so
// the supervisor does no work per connection); each copy has a response socket of its own.
// `switchyard provider request <task> [args]`: one request through the coordinator client.

import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { flagLayer, flagNameOf, type Layer } from '../../config/settings/settings.js';
import { errors } from '../../errors.js';
import { PROVIDER_DESCRIPTION } from '../command-descriptions.js';
import { createLogger } from '../../observability/logger.js';
import { isInstance as isInstanceCopy, parseInstances, superviseInstances } from '../../runtime/instances.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import {
  coordinatorClient, discoverProviders, isProviderDefinition, loadProviderSettings, runner,
  PROVIDER_CONFIG_FILE_ENV, PROVIDER_FLAG_KEYS, PROVIDER_GO_FLAG_KEYS,
  type ProviderComponent, type ProviderDefinition, type ProviderSettings,
} from '../../models/provider/mod.js';
import { importModule } from '../load-services.js';
import { prepareSocketPath, probeSocket } from '../../transports/unix/mod.js';

/** SWITCHYARD_PROVIDER_{KEY}: the environment name of a provider setting. */
const envOf = (key: string) => `SWITCHYARD_PROVIDER_${key.toUpperCase()}`;

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

/**
 * The command's flags as the flag layer of the provider section: ours (--socket-dir) and the
 * Go provider's (--socket_dir) feed the same key, and a message names the one the user typed.
 */
export function providerFlagLayer(flags: Flags): Layer {
  const values: Record<string, unknown> = {};
  const spelled = new Map<string, string>();
  for (const key of PROVIDER_FLAG_KEYS) {
    const value = flagValue(flags, key);
    if (value === undefined) continue;
    values[key] = value;
    spelled.set(key, flags[camel(key)] !== undefined ? flagNameOf('', camel(key)) : `--${key}`);
  }
  return flagLayer({ provider: values }, (_section, key) => spelled.get(key) ?? `--${key}`);
}

export interface ProviderSettingsInputs {
  /** Parsed flags of `switchyard provider run`. */
  readonly flags: Flags;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The provider section, strongest first: flags, SWITCHYARD_PROVIDER_*, the Go provider's JSON
 * config file (--config/-c/--config_file, or SWITCHYARD_PROVIDER_CONFIG_FILE), defaults.
 */
export function resolveProviderSettings(input: ProviderSettingsInputs): ProviderSettings {
  return loadProviderSettings({ configFile: flagValue(input.flags, 'config_file', 'config'), env: input.env, flags: providerFlagLayer(input.flags) });
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
    .option('-c, --config <file>', `JSON config file; env ${PROVIDER_CONFIG_FILE_ENV}`)
    .option('-n, --service-name <name>', `name the provider registers as; env ${envOf('service_name')}`)
    .option('-s, --socket-dir <dir>', `base folder of task sockets (default /tmp/mistify); env ${envOf('socket_dir')}`)
    .option('-p, --default-priority <n>', `priority of tasks without their own (default 50; higher is preferred); env ${envOf('default_priority')}`)
    .option('-u, --coordinator-url <url>', `where requests to other tasks go (default: straight to the socket folder); env ${envOf('coordinator_url')}`)
    .option('-l, --log-level <level>', `log level (default warning); env ${envOf('log_level')}`)
    .option('--default-timeout <s>', `handler time limit in seconds (default 60; 0 = none); env ${envOf('default_timeout')}`)
    .option('-t, --request-timeout <s>', `wait for responses to requests, seconds (0 = 60); env ${envOf('request_timeout')}`)
    .option('--max-frame-bytes <n>', `largest frame body accepted (default 16777216); env ${envOf('max_frame_bytes')}`)
    .option('--socket-mode <octal>', `socket file mode (default 0660); env ${envOf('socket_mode')}`)
    .option('--response-hook-allow <entries>', `comma-separated hosts, *.suffix, host:port, IPs, CIDRs, unix:/folder responses may go to (default: any); env ${envOf('response_hook_allow')}`)
    .option('--max-open-streams <n>', `stream sockets announced and not yet read, at most (default 256); env ${envOf('max_open_streams')}`)
    .option('--stream-idle-timeout <s>', `how long a stream socket waits for its reader, seconds (default 60; 0 = forever); env ${envOf('stream_idle_timeout')}`);
}

/** Our options and their Go spellings (config_file for --config, and every key with an underscore). */
function withProviderFlags(command: Command): Command {
  return withGoSpellings(withConfigFlags(command), [...new Set<string>([...PROVIDER_GO_FLAG_KEYS, ...PROVIDER_FLAG_KEYS])]);
}

async function loadDefinitions(path: string): Promise<ProviderDefinition[]> {
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
  const cmd = program.command('provider').description(PROVIDER_DESCRIPTION);

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
      if (more.length > 0) throw new errors.SY_ERR_MODULE(module, `it exports ${more.length + 1} providers; run one per process (each has its own service_name)`);
      process.exitCode = await runProvider({ module, definition: definition!, settings: resolveProviderSettings({ flags, env: process.env }), instances: parseInstances(flags.instances), out });
    });

  cmd.command('list')
    .description('list the providers registered under a socket folder: task, priority, service, live or stale')
    .argument('[task...]', 'tasks to list (default: every task folder)')
    .option('-s, --socket-dir <dir>', `base folder of task sockets (default /tmp/mistify); env ${envOf('socket_dir')}`)
    .addOption(new Option('--socket_dir <dir>').hideHelp())
    .action(async (tasks: string[], flags: Flags) => {
      const socketDir = resolve(flagValue(flags, 'socket_dir') ?? (process.env[envOf('socket_dir')] || '/tmp/mistify'));
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
    .option('-s, --socket-dir <dir>', `base folder of task sockets (default /tmp/mistify); env ${envOf('socket_dir')}`)
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
      const socketDir = resolve(flagValue(flags, 'socket_dir') ?? (process.env[envOf('socket_dir')] || '/tmp/mistify'));
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

export interface RunProviderOptions {
  readonly module: string;
  readonly definition: ProviderDefinition;
  readonly settings: ProviderSettings;
  /** Copies under one supervisor (1: this process serves). */
  readonly instances: number;
  readonly out: (line: string) => void;
}

/**
 * Runs one provider on the runtime until a signal: the runner makes its component on the
 * unix transport the registry opens, the Runtime starts it and stops it (task sockets
 * removed, requests in flight answered). With instances > 1 this process is the supervisor:
 * it learns the task socket paths, makes them ready once, and starts the copies, which run
 * this same function as copies (their task sockets shared through it).
 */
export async function runProvider(options: RunProviderOptions): Promise<number> {
  const { settings, out } = options;
  // The runner names each provider's service in its log lines (a child logger).
  const logger = createLogger({ level: settings.log_level, destination: 2 });
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const ctx: RunContext<ProviderSettings> = {
    logger, observer: runtime.observer, transports, settings,
    transport: runner.defaultTransport,
    stateDir: '.switchyard',
    configSource: () => Promise.reject(new errors.SY_ERR_USAGE('the provider model reads no configuration service')),
    objectStore: () => Promise.reject(new errors.SY_ERR_USAGE('the provider model uses no object store')),
  };
  const [component] = (await runner.components([options.definition], ctx)) as ProviderComponent[];
  if (options.instances > 1 && !isInstanceCopy()) {
    // The supervisor: the copies bind through it, so the paths are made ready here, once.
    await component!.register();
    if (component!.socketPaths().length === 0) throw new errors.SY_ERR_MODULE(options.module, 'its provider registers no task; call p.registerTask(name, handler)');
    for (const path of component!.socketPaths()) {
      if (await prepareSocketPath(path)) logger.warn({ socket: path }, 'replaced a stale socket left by a process that is gone');
    }
    await transports.close();
    return superviseInstances({ instances: options.instances, logger, connections: 'kernel' });
  }
  try {
    await runtime.add(component!);
    await runtime.start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  out(`provider ${component!.source.service} serving ${component!.socketPaths().join(', ')}`);
  return runtime.untilSignal();
}
