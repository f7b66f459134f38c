/**
 * A case file run on its own (`npx tsx bench/cases/<case>.ts [--quick]`) instead of through the
 * runner: its table on the console, and an exit code that says whether it worked.
 */
export function runStandalone(run: (options: { quick?: boolean }) => Promise<Record<string, string | number>[]>): void {
  run({ quick: process.argv.includes('--quick') }).then(
    (table) => {
      console.table(table);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
