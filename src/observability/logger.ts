// The one logger: pino, JSON lines, one field naming the service, secrets redacted.
// Make a child per queue or message (`log.child({ queue, messageId })`) for context.

import { pino } from 'pino';
import { errors } from '../errors.js';
import { censorNested } from './redact-nested.js';

export type Logger = pino.Logger;
export type DestinationStream = pino.DestinationStream;

import { levelNames, type LevelName } from './levels.js';

export { levelNames, type LevelName } from './levels.js';

/** Spellings used by the seed frameworks (Python logging, Rust tracing) that map onto ours. */
const levelAliases: Readonly<Record<string, LevelName>> = {
  warning: 'warn',
  critical: 'fatal',
  off: 'silent',
};

/**
 * Checks a log level from settings and returns it in canonical form. Case does not matter and
 * "warning", "critical" and "off" are accepted as warn, fatal and silent.
 * Throws SY_ERR_SETTINGS listing the valid levels otherwise.
 */
export function validateLevel(level: string, setting = 'log level'): LevelName {
  const lower = typeof level === 'string' ? level.trim().toLowerCase() : '';
  if ((levelNames as readonly string[]).includes(lower)) return lower as LevelName;
  const alias = levelAliases[lower];
  if (alias) return alias;
  throw new errors.SY_ERR_SETTINGS(
    `${setting} ${JSON.stringify(level)} is not valid; use one of: ${levelNames.join(', ')}`,
  );
}

/** Field names whose values are secrets wherever they appear (top level, or one or two levels deep). */
export const secretFields = [
  'password', 'passwd', 'pass', 'passphrase',
  'secret', 'secretKey', 'secret_key', 'secretAccessKey', 'secret_access_key', 's3_secret_access_key',
  'accessKey', 'access_key',
  'authorization', 'Authorization', 'cookie', 'Cookie',
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'apiKey', 'api_key',
  'privateKey', 'private_key', 'credentials',
] as const;

/**
 * The pino redact paths made from secretFields: the top level only. One and two levels down
 * they are censored by censorNested (redact-nested.ts): pino's wildcard paths cost ~140 µs
 * a line.
 */
export const redactPaths: readonly string[] = [...secretFields];

const SECRET_FIELDS: ReadonlySet<string> = new Set(secretFields);
const censorLine = (obj: Record<string, unknown>) => censorNested(obj, SECRET_FIELDS, REDACTED);

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  /** A level from levelNames (or an alias, see validateLevel). Default "info". */
  level?: string;
  /**
   * Written as the `service` field of every line. Without it lines carry no service field, so a
   * process running several services can set it per line or per child (`log.child({ service })`).
   */
  service?: string;
  /** Where lines go: a stream, or a file descriptor number. Default stdout. */
  destination?: pino.DestinationStream | number;
  /** More paths to redact, in pino's path syntax (e.g. "config.db.dsn"). */
  redact?: readonly string[];
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = validateLevel(options.level ?? 'info');
  const destination =
    typeof options.destination === 'number' ? pino.destination({ dest: options.destination, sync: true }) : options.destination;
  const loggerOptions: pino.LoggerOptions = {
    level,
    base: options.service === undefined ? {} : { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }), log: censorLine },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    redact: { paths: [...redactPaths, ...(options.redact ?? [])], censor: REDACTED },
  };
  const logger = destination === undefined ? pino(loggerOptions) : pino(loggerOptions, destination);
  // A child's bindings skip the formatters (pino resets the bindings formatter for children):
  // censored here. Children inherit this method, so grandchildren are censored too.
  const makeChild = logger.child as unknown as (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  logger.child = function child(this: unknown, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) {
    return makeChild.call(this, censorLine(bindings), childOptions);
  } as unknown as Logger['child'];
  return logger;
}
