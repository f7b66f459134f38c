/**
 * Benchmark runner: `npm run bench [-- --quick] [-- --no-write] [case ...]`.
 *
 * A case is a file in bench/cases/ that exports
 *   run(options: { quick?: boolean }): Row[] | Promise<Row[]>
 * where a row is a flat object of numbers and strings (one table row), and
 * optionally `title` (a heading), `notes` (markdown under the table, may
 * use the rows: `notes(rows)`) and `timeoutMinutes` (default 15) when it
 * needs longer. Other files there are helpers and are left alone. Each
 * case runs in its own process, one after another, so timings and heap
 * measurements do not disturb each other. Results are printed and
 * appended to bench/HISTORY.md with the command, machine and date (the
 * current figure of each benchmark is kept by hand in BENCHMARKS.md's first
 * table).
 *
 * Names on the command line select cases by file name (without `.ts`). A case that declares
 * `export const argumentsUsage = '<what it takes>'` takes the words that follow its name (up to the next
 * case name) as `options.args`, e.g. `npm run bench -- node-layer-vs 439f7a6`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

type Row = Record<string, string | number | boolean | undefined>;

interface CaseOptions {
  quick?: boolean;
  /** The words after the case's name, for a case that declares argumentsUsage. */
  args?: string[];
}

interface CaseModule {
  run(options: CaseOptions): Row[] | Promise<Row[]>;
  title?: string;
  notes?: string | ((rows: Row[]) => string);
}

interface CaseResult {
  name: string;
  title: string;
  rows: Row[];
  notes?: string;
  error?: string;
  seconds: number;
}

const CASES_DIR = join(__dirname, 'cases');
const RESULT_MARK = '@@bench-result@@';
const DEFAULT_TIMEOUT_MINUTES = 15;

/** Files that export a run() function; checked in the source so helpers with side effects are never loaded. */
function discover(): string[] {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /export\s+(async\s+)?function\s+run\s*\(/.test(readFileSync(join(CASES_DIR, f), 'utf8')))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** A case may take longer than the default by declaring `export const timeoutMinutes = <n>`; read from its source. */
function caseTimeoutMinutes(name: string): number {
  const declared = /export\s+const\s+timeoutMinutes\s*=\s*(\d+)/.exec(
    readFileSync(join(CASES_DIR, `${name}.ts`), 'utf8'),
  );
  return declared ? Number(declared[1]) : DEFAULT_TIMEOUT_MINUTES;
}

/** Whether a case takes arguments (declares `export const argumentsUsage`); read from its source. */
function takesArguments(name: string): boolean {
  return /export\s+const\s+argumentsUsage\s*=/.test(readFileSync(join(CASES_DIR, `${name}.ts`), 'utf8'));
}

/** The command line's words as cases, each with the words after it when it takes arguments. */
function selection(words: string[], available: string[]): { name: string; args: string[] }[] {
  const selected: { name: string; args: string[] }[] = [];
  const unknown: string[] = [];
  for (const word of words) {
    const current = selected[selected.length - 1];
    if (available.includes(word)) selected.push({ name: word, args: [] });
    else if (current && takesArguments(current.name)) current.args.push(word);
    else unknown.push(word);
  }
  if (unknown.length > 0) throw new Error(`unknown case(s) ${unknown.join(', ')}; available: ${available.join(', ')}`);
  return selected;
}

async function runChild(name: string, quick: boolean, args: string[]): Promise<void> {
  const mod = (await import(join(CASES_DIR, `${name}.ts`))) as CaseModule;
  const rows = await mod.run({ quick, args });
  const notes = typeof mod.notes === 'function' ? mod.notes(rows) : mod.notes;
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify({ rows, title: mod.title, notes })}\n`);
}

function runCase(name: string, quick: boolean, args: string[]): Promise<CaseResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, __filename, '--child', name, JSON.stringify(args), ...(quick ? ['--quick'] : [])],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), caseTimeoutMinutes(name) * 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (!line) {
        resolve({
          name,
          title: name,
          rows: [],
          seconds,
          error: `exited ${code} without a result:\n${out.slice(-2000)}`,
        });
        return;
      }
      const result = JSON.parse(line.slice(RESULT_MARK.length)) as { rows: Row[]; title?: string; notes?: string };
      resolve({ name, title: result.title ?? name, rows: result.rows, notes: result.notes, seconds });
    });
  });
}

function table(rows: Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Row[string]) =>
    v === undefined
      ? ''
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? v.toLocaleString('en-US')
          : v.toFixed(2)
        : String(v);
  const numeric = columns.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] === undefined));
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((_, i) => (numeric[i] ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n');
}

function machine(): string {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // cpus() it is.
  }
  return `${nproc} CPUs (nproc), ${model}, Node.js ${process.version}, ${process.platform}/${process.arch}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  if (args[0] === '--child') {
    await runChild(args[1], quick, JSON.parse(args[2]) as string[]);
    return;
  }
  const write = !args.includes('--no-write');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const available = discover();
  const selected = wanted.length > 0 ? selection(wanted, available) : available.map((name) => ({ name, args: [] }));
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const sections: string[] = [];
  for (const { name, args: caseArgs } of selected) {
    console.log(`\n== ${[name, ...caseArgs].join(' ')}${quick ? ' (quick)' : ''}`);
    const result = await runCase(name, quick, caseArgs);
    const body = result.error
      ? `Failed: ${result.error}`
      : [table(result.rows), result.notes ? `\n${result.notes}` : ''].join('\n');
    console.log(body);
    sections.push(
      `### ${result.title}\n\nCase \`bench/cases/${name}.ts\`, ${result.seconds.toFixed(1)} s.\n\n${body}\n`,
    );
  }
  if (write) {
    const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
    appendFileSync(
      join(__dirname, 'HISTORY.md'),
      `\n## Run of ${date} UTC\n\nCommand: \`${command}\`. Machine: ${machine()}.\n\n${sections.join('\n')}`,
    );
    console.log('\nAppended to bench/HISTORY.md; update the current figures in BENCHMARKS.md');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
