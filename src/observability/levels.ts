// The log levels, as data (flags and settings list them without loading the logger).

/** Valid log levels, most severe first; "silent" turns logging off. */
export const levelNames = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LevelName = (typeof levelNames)[number];
