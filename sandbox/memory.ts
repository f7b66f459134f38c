/**
 * Memory of an environment's real process tree: the sum over every process in
 * its process groups of its resident-set high-water mark (VmHWM), read from
 * /proc, so short peaks between samples still count, as Lambda's
 * maxMemoryUsedMB counts the environment's peak. One shared scanner serves
 * every environment in this Node process, so dozens of environments cost one
 * /proc walk per tick, and it only runs while some environment is invoking.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Peak resident bytes (VmHWM) per process group id, from one walk of /proc. */
export function rssByProcessGroup(groups: ReadonlySet<number>): Map<number, number> {
  const result = new Map<number, number>();
  if (groups.size === 0) return result;
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return result;
  }
  for (const pid of pids) {
    if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pgrp = Number(fields[2]);
      if (!groups.has(pgrp)) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      const match = /VmHWM:\s+(\d+)\s+kB/.exec(status);
      if (match) result.set(pgrp, (result.get(pgrp) ?? 0) + Number(match[1]) * 1024);
    } catch {
      // the process ended while we looked
    }
  }
  return result;
}

interface Watch {
  groups: () => number[];
  onSample: (bytes: number) => void;
}

/** Samples watched environments every `intervalMs` while at least one watch is active. */
class SharedSampler {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  watch(groups: () => number[], onSample: (bytes: number) => void): () => void {
    const w: Watch = { groups, onSample };
    this.watches.add(w);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.watches.delete(w);
      if (this.watches.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private tick(): void {
    const all = new Set<number>();
    const perWatch = [...this.watches].map((w) => {
      const groups = w.groups();
      for (const g of groups) all.add(g);
      return { w, groups };
    });
    const rss = rssByProcessGroup(all);
    for (const { w, groups } of perWatch) w.onSample(groups.reduce((sum, g) => sum + (rss.get(g) ?? 0), 0));
  }
}

export const sharedSampler = new SharedSampler(50);

/** Peak resident bytes of the given process groups, summed. */
export function sampleGroups(groups: number[]): number {
  const rss = rssByProcessGroup(new Set(groups));
  let sum = 0;
  for (const v of rss.values()) sum += v;
  return sum;
}
