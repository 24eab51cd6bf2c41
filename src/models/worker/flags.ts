// The worker section's flags on `run` and `dev` (light: the CLI lists them before it knows
// which models the modules hold). They keep the spellings they have always had.

import type { FlagSpec } from '../../config/settings/flag-spec.js';

export const WORKER_FLAGS: readonly FlagSpec[] = [
  { option: '--staging-dir <dir>', key: 'stagingDir', help: 'workers: parent of per-message staging folders (default the OS temp folder); env SWITCHYARD_STAGING_DIR' },
  { option: '--staging-memory-bytes <n>', key: 'stagingMemoryBytes', help: 'workers: bytes of one output staged in memory before spilling to a file (default 1048576; 0 = always a file); env SWITCHYARD_STAGING_MEMORY_BYTES' },
  { option: '--queue-durable <bool>', key: 'queueDurable', help: 'workers: declare queues the configuration says nothing about durable (true) or not (false); unset: use existing queues as they are, declare missing ones as slingshot does (non-durable); env SWITCHYARD_QUEUE_DURABLE' },
  { option: '--queue-arguments <json>', key: 'queueArguments', help: 'workers: declaration arguments for those queues, e.g. \'{"x-queue-type":"quorum"}\'; env SWITCHYARD_QUEUE_ARGUMENTS' },
];
