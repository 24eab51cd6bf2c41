// A settings section's command-line flags as data (what `--help` needs): each model and the
// process list the flags they document, with the section key each one sets, and the CLI adds
// them to its commands. Light on purpose: commander only, no schema library, so `switchyard
// --help` loads no settings code. Turning given values into a settings layer: flags.ts.

import { Option, type Command } from 'commander';

export interface FlagSpec {
  /** Commander's option text, e.g. "--port <port>" or "--engine-url <url>". */
  readonly option: string;
  /** The section key it sets. */
  readonly key: string;
  readonly help: string;
  /** Repeatable: every occurrence is collected into a list. */
  readonly repeat?: boolean;
  /** Another spelling of the same flag (an original's, e.g. "--socket_dir <dir>"). */
  readonly alias?: string;
  /** The only values allowed (refused as usage before anything runs). */
  readonly choices?: readonly string[];
}

/** Commander's camelCase property name of an option text ("--max-tasks <n>" → maxTasks). */
export function attributeOf(option: string): string {
  const long = option.split(/[ ,]+/).find((part) => part.startsWith('--'))!;
  return long.slice(2).replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Adds the flags to a command (an option already on it, from another section, is kept once). */
export function addFlags(command: Command, specs: readonly FlagSpec[]): Command {
  const have = new Set(command.options.map((o) => o.long));
  for (const spec of specs) {
    for (const option of [spec.option, ...(spec.alias ? [spec.alias] : [])]) {
      const long = option.split(/[ ,]+/).find((part) => part.startsWith('--'));
      if (long && have.has(long)) continue;
      if (long) have.add(long);
      const made = new Option(option, spec.help);
      if (spec.choices) made.choices(spec.choices);
      if (spec.repeat) made.argParser(collect);
      command.addOption(made);
    }
  }
  return command;
}
