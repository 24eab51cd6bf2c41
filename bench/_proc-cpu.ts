// CPU time of a process group from /proc, for benchmarks on a machine too loaded for
// wall-clock figures to mean much: user+system time of every live process whose process
// group is `pgid` (a peer started detached is its own group: a cluster primary and its
// copies, or one Go process), in milliseconds. Linux only; the kernel counts in clock ticks
// (10 ms), so sample around runs of a second or more.

import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // getconf CLK_TCK is 100 on Linux

export function groupCpuMs(pgid: number): number {
  let ticks = 0;
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
    if (Number(fields[2]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_MS;
}
