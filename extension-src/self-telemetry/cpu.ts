/**
 * CPU time used by this process so far, in milliseconds: process.cpuUsage()
 * on Node.js; on engines without it (LLRT), utime + stime from
 * /proc/self/stat (clock ticks of 10 ms on Linux). Undefined where neither exists.
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

export function processCpuMs(): number | undefined {
  if (typeof process.cpuUsage === 'function') {
    const cpu = process.cpuUsage();
    return (cpu.user + cpu.system) / 1000;
  }
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at ") "; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}
