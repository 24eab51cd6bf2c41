// The API section's flags on `run` and `dev` (light: the CLI lists them before it knows
// which models the modules hold).

import type { FlagSpec } from '../../config/settings/flag-spec.js';

/** The API flags of `run` and `dev`. */
export const API_FLAGS: readonly FlagSpec[] = [
  { option: '--bus-config <file|url>', key: 'busConfig', help: 'API services: a Lightbus bus config (YAML/JSON file or URL); env SWITCHYARD_BUS_CONFIG or LIGHTBUS_CONFIG' },
  { option: '--service-name <name>', key: 'serviceName', help: 'API services: the Lightbus service name (listener groups are named by it: keep it stable so events wait across restarts); env SWITCHYARD_SERVICE_NAME or LIGHTBUS_SERVICE_NAME' },
  { option: '--process-name <name>', key: 'processName', help: 'API services: the Lightbus process name; env SWITCHYARD_PROCESS_NAME or LIGHTBUS_PROCESS_NAME' },
];

