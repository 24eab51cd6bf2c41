// CPU time of a process group from /proc, for benchmarks on a machine too loaded for
// wall-clock figures to mean much: user+system time of every live process whose process
// group is `pgid` (a peer started detached is its own group: a cluster primary and its
// copies, or one Go process), in milliseconds. Linux only; the kernel counts in clock ticks
// (10 ms), so sample around runs of a second or more.
//
// And how the scheduler treated them (schedSample): the time their threads spent runnable
// but waiting for a CPU (the run queue), and how often they were switched out. These show
// what CPU time cannot: a one-thread client's latency tail is time spent waiting for a CPU,
// and a Go process that goes idle and is woken again per request pays for it in CPU.

import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // getconf CLK_TCK is 100 on Linux

/** The live processes of process group `pgid`, with their /proc/<pid>/stat fields after "(comm)". */
function groupProcs(pgid: number): Array<{ pid: string; fields: string[] }> {
  const procs: Array<{ pid: string; fields: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp … utime stime …": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) procs.push({ pid: name, fields });
  }
  return procs;
}

export function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const { fields } of groupProcs(pgid)) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks * TICK_MS;
}

export interface SchedSample {
  /** Time the threads spent runnable, waiting for a CPU, ms (schedstat's second field). */
  runqMs: number;
  /** Context switches, voluntary (the thread slept) and involuntary (it was preempted). */
  voluntary: number;
  involuntary: number;
}

/** The scheduler's counts for every thread of process `pid` ('self' for this one); threads gone meanwhile are not counted. */
export function schedSample(pid: number | 'self'): SchedSample {
  const sample: SchedSample = { runqMs: 0, voluntary: 0, involuntary: 0 };
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return sample;
  }
  for (const tid of tasks) {
    try {
      sample.runqMs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      sample.voluntary += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      sample.involuntary += Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sample;
}

/** schedSample summed over every process of group `pgid`. */
export function groupSched(pgid: number): SchedSample {
  const sum: SchedSample = { runqMs: 0, voluntary: 0, involuntary: 0 };
  for (const { pid } of groupProcs(pgid)) {
    const s = schedSample(Number(pid));
    sum.runqMs += s.runqMs;
    sum.voluntary += s.voluntary;
    sum.involuntary += s.involuntary;
  }
  return sum;
}

/** b − a, field by field. */
export function schedDelta(a: SchedSample, b: SchedSample): SchedSample {
  return { runqMs: b.runqMs - a.runqMs, voluntary: b.voluntary - a.voluntary, involuntary: b.involuntary - a.involuntary };
}
