// The worker model's settings: ONE section of the settings system ("worker" in a settings
// file, SWITCHYARD_WORKER_* in the environment). The names workers have always read
// (SWITCHYARD_STAGING_DIR, SWITCHYARD_QUEUE_DURABLE, ...) are the section's `originalEnv`;
// a settings file's top-level keys of the same names (how settings files have always
// spelled them) are moved into the section by cli/settings-file.ts. Merging, precedence and the error shape are
// the settings system's (config/settings/settings.ts); this file declares the keys and
// turns the resolved values into what a worker runs with.
//
// slingshot itself has no settings of its own beyond RUST_LOG (the process's log level) and
// TMPDIR (the staging folder's default, which os.tmpdir() reads): its queues, routes,
// buckets, broker and store come from the configuration service, which stays a
// ConfigSource (config/), not a settings layer.

import { z } from 'zod';
import type { QueueDeclaration } from '../../config/config-source.js';
import { defineSection } from '../../config/settings/settings.js';
import type { WorkerEnvironment } from './worker-component.js';
import { DEFAULT_STAGING_MEMORY_BYTES } from './request-files.js';

/** true/false, also as the text a flag or an environment variable carries. */
const booleanSetting = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
], { error: 'must be true or false' });

/** A mapping, or JSON text of one (flags and environment variables are text). */
const jsonObjectSetting = z.preprocess((v, ctx) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a JSON object such as '{"x-queue-type": "quorum"}'` });
    return z.NEVER;
  }
}, z.record(z.string(), z.unknown(), { error: 'must be a mapping of argument: value' }));

const schema = z.object({
  stagingDir: z.string().min(1).optional()
    .describe('Parent folder of the per-message staging folders (outputs past stagingMemoryBytes are staged there until uploaded); default the OS temp folder ($TMPDIR, as slingshot). SWITCHYARD_STAGING_DIR.'),
  stagingMemoryBytes: z.coerce.number().int().min(0).default(DEFAULT_STAGING_MEMORY_BYTES)
    .describe('Bytes of one output staged in memory before it spills to a staging file; 0 = always a file (slingshot\'s behaviour). SWITCHYARD_STAGING_MEMORY_BYTES.'),
  queueDurable: booleanSetting.optional()
    .describe('How a worker declares the queues its configuration (system map or service) says nothing about: durable (true) or not (false). Unset: existing queues are used as they are and missing ones are declared as slingshot declares them (non-durable). SWITCHYARD_QUEUE_DURABLE.'),
  queueArguments: jsonObjectSetting.optional()
    .describe('Declaration arguments for those queues, e.g. {"x-queue-type": "quorum"}; JSON text in flags and the environment. Given without queueDurable, queues are declared non-durable. SWITCHYARD_QUEUE_ARGUMENTS.'),
});

/** The names workers have always read, kept working beside SWITCHYARD_WORKER_*. */
const LEGACY_NAMES = {
  stagingDir: 'SWITCHYARD_STAGING_DIR',
  stagingMemoryBytes: 'SWITCHYARD_STAGING_MEMORY_BYTES',
  queueDurable: 'SWITCHYARD_QUEUE_DURABLE',
  queueArguments: 'SWITCHYARD_QUEUE_ARGUMENTS',
} as const;

/** The section: key "worker" in settings files, SWITCHYARD_WORKER_{KEY} and the names workers have always read. */
export const workerSettingsSection = defineSection('worker', schema, LEGACY_NAMES);

/** The resolved section, as the settings system hands it to the runner. */
export type WorkerSettings = z.output<typeof schema>;

/** The queue declaration the settings give, or undefined when they give none (fields left out take slingshot's flags). */
export function queueDefaultsOf(settings: WorkerSettings): QueueDeclaration | undefined {
  if (settings.queueDurable === undefined && settings.queueArguments === undefined) return undefined;
  return { durable: settings.queueDurable ?? false, arguments: { ...settings.queueArguments } };
}

/** The part of a worker's environment its settings give. */
export function workerOptionsOf(settings: WorkerSettings): Pick<WorkerEnvironment, 'stagingRoot' | 'stagingMemoryBytes' | 'queueDefaults'> {
  const queueDefaults = queueDefaultsOf(settings);
  return {
    stagingMemoryBytes: settings.stagingMemoryBytes,
    ...(settings.stagingDir ? { stagingRoot: settings.stagingDir } : {}),
    ...(queueDefaults ? { queueDefaults } : {}),
  };
}
