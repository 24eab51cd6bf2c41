// Command-line flags of a settings section: each model (and the process) lists the flags
// it documents, with the section key each one sets. The CLI adds them to its commands and
// turns the values given into the settings system's flag layer, spelled as typed, so a bad
// value is reported as "task.port (from flag --port): ...".

import { Option, type Command } from 'commander';
import { flagLayer, type Layer } from './settings.js';

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

/** The values commander parsed for these flags, as a flag layer of `section`. */
export function flagLayerOf(section: string, specs: readonly FlagSpec[], values: Record<string, unknown>): Layer {
  const set: Record<string, unknown> = {};
  const spelled = new Map<string, string>();
  for (const spec of specs) {
    for (const option of [spec.option, ...(spec.alias ? [spec.alias] : [])]) {
      const value = values[attributeOf(option)];
      if (value === undefined) continue;
      set[spec.key] = value;
      spelled.set(spec.key, option.split(/[ ,]+/).find((p) => p.startsWith('--'))!);
    }
  }
  return flagLayer({ [section]: set }, (_s, key) => spelled.get(key) ?? key);
}
