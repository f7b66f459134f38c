/**
 * CPU time and resident memory of a process and its descendants, read from
 * /proc, so an implementation in another process (the extension in the
 * sandbox, the Collector) is measured the same way as any other.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The pid and its descendants (an extension may start children). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** CPU seconds (utime + stime) and RSS bytes (VmRSS) of the tree rooted at `root`. */
export function treeUsage(root: number): { cpuSeconds: number; rssBytes: number } {
  let ticks = 0;
  let rss = 0;
  for (const pid of processTree(root)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) rss += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { cpuSeconds: ticks / CLK_TCK, rssBytes: rss };
}

/**
 * Peak resident memory (VmHWM, the kernel's high-water mark since each process started) of the tree rooted at
 * `root`, summed over its processes; nothing is missed between samples.
 */
export function treePeakRss(root: number): number {
  let bytes = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return bytes;
}
