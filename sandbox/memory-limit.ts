/**
 * The function's memory size as a real limit. In Lambda the execution
 * environment has exactly the configured memory, shared by the runtime and
 * the extensions: Node.js sizes its heap from it (V8's young generation is a
 * few MB at 128-1024 MB, not the 32 MB it takes on a large host), and going
 * over it kills the environment. Here an environment's processes run in one
 * memory cgroup limited to memorySizeMb, which Node.js reads the same way
 * (its constrained memory), and the kernel enforces.
 *
 * cgroup v1 (memory controller mounted at /sys/fs/cgroup/memory) and v2
 * (memory in /sys/fs/cgroup/cgroup.controllers) are both handled. Where
 * neither can be written (not root, no memory controller), environments run
 * without a limit; `memoryLimitSupport()` says which.
 */
import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const PARENT = 'observed-sandbox';

interface Layout {
  readonly version: 1 | 2;
  /** Where the sandbox's cgroups are made. */
  readonly parent: string;
}

let layout: Layout | null | undefined;

function detect(): Layout | null {
  try {
    const v1 = '/sys/fs/cgroup/memory';
    if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
      const parent = join(v1, PARENT);
      mkdirSync(parent, { recursive: true });
      return { version: 1, parent };
    }
    const v2 = '/sys/fs/cgroup';
    const controllers = readFileSync(join(v2, 'cgroup.controllers'), 'utf8');
    if (!controllers.split(/\s+/).includes('memory')) return null;
    const parent = join(v2, PARENT);
    mkdirSync(parent, { recursive: true });
    // Children of the parent get the memory controller.
    appendFileSync(join(parent, 'cgroup.subtree_control'), '+memory');
    return { version: 2, parent };
  } catch {
    return null;
  }
}

function currentLayout(): Layout | null {
  if (layout === undefined) {
    layout = detect();
    // Limits left behind by sandboxes that are gone (rmdir only takes empty ones; live sandboxes keep theirs).
    if (layout) {
      for (const name of readdirSync(layout.parent)) {
        const pid = Number(/^env-(\d+)-/.exec(name)?.[1]);
        if (pid && !existsSync(`/proc/${pid}`)) removeDir(join(layout.parent, name));
      }
    }
  }
  return layout;
}

function removeDir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Whether environments get a real memory limit on this host, and which cgroup version gives it. */
export function memoryLimitSupport(): 'cgroup-v1' | 'cgroup-v2' | 'none' {
  const l = currentLayout();
  return l ? (`cgroup-v${l.version}` as const) : 'none';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

let counter = 0;

export class MemoryLimit {
  private constructor(
    private readonly dir: string,
    private readonly version: 1 | 2,
  ) {}

  /** A cgroup limited to `bytes`, or undefined where the host cannot give one. */
  static create(bytes: number): MemoryLimit | undefined {
    const l = currentLayout();
    if (!l) return undefined;
    const dir = join(l.parent, `env-${process.pid}-${++counter}`);
    try {
      mkdirSync(dir);
      if (l.version === 1) writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
      else {
        writeFileSync(join(dir, 'memory.max'), String(bytes));
        // Lambda has no swap: over the limit is over.
        if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      }
      return new MemoryLimit(dir, l.version);
    } catch {
      removeDir(dir);
      return undefined;
    }
  }

  /**
   * The command and arguments that run `command` inside the limit: a shell
   * moves itself into the cgroup, then execs the command (same pid), so the
   * process is limited from its first instruction, before Node.js sizes its heap.
   */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    // A path that cannot be executed is spawned as it is, so the spawn error is the same as without a limit.
    if (command.includes('/') && !isExecutable(command)) return { command, args: [...args] };
    const procs = join(this.dir, 'cgroup.procs');
    return { command: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args] };
  }

  /** Processes the kernel killed for going over the limit, so far. */
  oomKills(): number {
    try {
      const file = this.version === 1 ? 'memory.oom_control' : 'memory.events';
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(join(this.dir, file), 'utf8'));
      return match ? Number(match[1]) : 0;
    } catch {
      return 0;
    }
  }

  /** Removes the cgroup once its processes are gone (retried briefly: exits are reaped asynchronously). */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (removeDir(this.dir) || !existsSync(this.dir)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
