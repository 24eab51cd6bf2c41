// Scheduled tasks of a bus (Lightbus's @every and @schedule): run a function every
// interval or at the times of a cron expression, sync or async alike, as background work
// of the running bus. Execution time is taken off the wait, as Lightbus does, and a run
// never overlaps the previous one of the same task.

import { Cron } from 'croner';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { traceOnce } from '../../observability/trace-once.js';

export type Interval = number | { readonly ms?: number; readonly seconds?: number; readonly minutes?: number; readonly hours?: number; readonly days?: number };

export interface ScheduleOptions {
  /** Run once at start instead of waiting a full interval first. Default false. */
  readonly alsoRunImmediately?: boolean;
  /** A name for logs. */
  readonly name?: string;
}

export function intervalMs(interval: Interval): number {
  const ms =
    typeof interval === 'number'
      ? interval
      : (interval.ms ?? 0) + 1000 * ((interval.seconds ?? 0) + 60 * ((interval.minutes ?? 0) + 60 * ((interval.hours ?? 0) + 24 * (interval.days ?? 0))));
  if (!Number.isFinite(ms) || ms <= 0) throw new errors.SY_ERR_SCHEDULE('every(...)', `the interval must be more than 0 ms, got ${ms}; give e.g. every({ seconds: 30 }, fn)`);
  return ms;
}

export interface ScheduledTask {
  start(): void;
  /** Stops the timer and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

type Task = () => unknown;

function runner(name: string, fn: Task, logger: Logger) {
  // A task failing at every run (what it calls is down): one line each, the stack trace once.
  const trace = traceOnce();
  return async () => {
    try {
      await fn();
    } catch (error) {
      logger.error({ err: trace(error), task: name }, `scheduled task "${name}" failed; it runs again at its next time`);
    }
  };
}

/** Every `ms`: waits max(0, ms - time the last run took). */
export function everyTask(interval: Interval, fn: Task, options: ScheduleOptions, logger: Logger): ScheduledTask {
  const ms = intervalMs(interval);
  const name = options.name ?? (fn.name || 'every');
  const run = runner(name, fn, logger);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const loop = (delay: number) => {
    timer = setTimeout(async () => {
      const started = Date.now();
      running = run();
      await running;
      running = undefined;
      if (!stopped) loop(Math.max(0, ms - (Date.now() - started)));
    }, delay);
  };
  return {
    start: () => loop(options.alsoRunImmediately ? 0 : ms),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** At the times of a cron expression (5 or 6 fields, croner syntax), in local time. */
export function cronTask(expression: string, fn: Task, options: ScheduleOptions, logger: Logger): ScheduledTask {
  let job: Cron;
  try {
    job = new Cron(expression, { paused: true });
  } catch (error) {
    throw new errors.SY_ERR_SCHEDULE(`"${expression}"`, `not a cron expression (${(error as Error).message}); use e.g. "*/5 * * * *" for every five minutes`);
  }
  job.stop();
  const name = options.name ?? (fn.name || expression);
  const run = runner(name, fn, logger);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const check = new Cron(expression, { paused: true });
  const loop = () => {
    const next = check.nextRun();
    if (!next || stopped) return;
    timer = setTimeout(async () => {
      running = run();
      await running;
      running = undefined;
      loop();
    }, Math.max(0, next.getTime() - Date.now()));
  };
  return {
    start: () => {
      if (options.alsoRunImmediately) {
        running = run().then(() => {
          running = undefined;
        });
      }
      loop();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      check.stop();
      await running;
    },
  };
}
