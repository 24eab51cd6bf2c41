// Logging for `switchyard service`, as the original's flags ask: the console at -cl's level
// and, with -l DIR, a file DIR/<service>.log at -f's level (default INFO). One pino logger
// writes to both through a tee that filters each line by its level. (The original rotates
// its file, keeping -bc backups; Switchyard does not rotate: -bc is accepted and ignored.)

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type DestinationStream, type LevelName, type Logger } from '../observability/logger.js';

/** Severity order, most verbose first, as pino numbers them. */
const RANK: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function levelOfLine(line: string): number {
  const m = /"level":"([a-z]+)"/.exec(line);
  return m ? (RANK[m[1]!] ?? 30) : 30;
}

/** The levels come checked from the service settings section (consoleLoglevel, fileLoglevel). */
export interface ServiceLogOptions {
  readonly consoleLevel: LevelName;
  readonly fileLevel?: LevelName;
  readonly folder?: string;
  readonly service: string;
}

export interface ServiceLog {
  readonly logger: Logger;
  /** Where the file log goes, when there is one. */
  readonly file?: string;
  close(): Promise<void>;
}

export function createServiceLog(options: ServiceLogOptions): ServiceLog {
  const consoleLevel = options.consoleLevel;
  if (options.folder === undefined) return { logger: createLogger({ level: consoleLevel, destination: 1 }), close: async () => undefined };
  const fileLevel = options.fileLevel ?? 'info';
  mkdirSync(options.folder, { recursive: true });
  const file = join(options.folder, `${options.service}.log`);
  // Written synchronously, like the console: the signal handlers exit the process at once.
  const fd = openSync(file, 'a');
  const consoleRank = RANK[consoleLevel]!;
  const fileRank = RANK[fileLevel]!;
  const tee: DestinationStream = {
    write(line: string) {
      const rank = levelOfLine(line);
      if (rank >= consoleRank) writeSync(1, line);
      if (rank >= fileRank) writeSync(fd, line);
    },
  };
  // The logger passes the more verbose of the two levels; the tee sorts the lines.
  const level: LevelName = consoleRank <= fileRank ? consoleLevel : fileLevel;
  return {
    logger: createLogger({ level, destination: tee }),
    file,
    close: async () => closeSync(fd),
  };
}
