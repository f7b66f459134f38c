/**
 * Memory of an environment's real process tree: the sum over the runtime and
 * extension processes and their descendants of each one's resident-set
 * high-water mark (VmHWM, from /proc), so short peaks between samples still
 * count, as Lambda's maxMemoryUsedMB is the environment's peak. Samples are
 * taken at the end of init and of each invocation, and periodically during an
 * invocation (for processes that end before it does) by one shared timer that
 * only runs while some environment is invoking.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Peak resident bytes (VmHWM) of one process, 0 when it is gone. */
function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Direct children of a process (as listed by its main thread, which is where Node and shells fork). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Peak resident bytes per root process, summed over the process and its
 * descendants. Walking down from the roots reads only the environment's own
 * processes, not the whole of /proc (which is slow where /proc is emulated).
 */
export function peakRssByRoot(roots: ReadonlySet<number>): Map<number, number> {
  const result = new Map<number, number>();
  for (const root of roots) {
    let sum = 0;
    const seen = new Set<number>();
    const stack = [root];
    while (stack.length > 0 && seen.size < 10_000) {
      const pid = stack.pop()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      sum += peakRss(pid);
      stack.push(...children(pid));
    }
    result.set(root, sum);
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
    // Without /proc only the end-of-invocation samples are taken (ps is too slow to poll).
    if (!HAS_PROC) return () => undefined;
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
    const rss = peakRssByRoot(all);
    for (const { w, groups } of perWatch) w.onSample(groups.reduce((sum, g) => sum + (rss.get(g) ?? 0), 0));
  }
}

export const sharedSampler = new SharedSampler(100);

const HAS_PROC = existsSync('/proc/self/status');

/** Without /proc (macOS): current resident bytes of the process groups, from `ps`. */
function residentFromPs(groups: number[]): number {
  try {
    const out = execFileSync('ps', ['-A', '-o', 'pgid=,rss='], { encoding: 'utf8' });
    const wanted = new Set(groups);
    let sum = 0;
    for (const line of out.split('\n')) {
      const [pgid, rssKb] = line.trim().split(/\s+/).map(Number);
      if (wanted.has(pgid)) sum += rssKb * 1024;
    }
    return sum;
  } catch {
    return 0;
  }
}

/** Peak resident bytes of the given process trees, summed. */
export function sampleGroups(groups: number[]): number {
  if (!HAS_PROC) return residentFromPs(groups);
  const rss = peakRssByRoot(new Set(groups));
  let sum = 0;
  for (const v of rss.values()) sum += v;
  return sum;
}
