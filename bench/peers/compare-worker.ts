/**
 * Runs bench/peers/compare.ts in a process of its own (the `peers` case starts it inside a private mount
 * namespace where `sandbox.localdomain` resolves, as it does in Lambda) and prints the result as one JSON line
 * after RESULT_MARK. Argument: the CompareOptions as JSON.
 */
import { type CompareOptions, compare } from './compare.js';

export const RESULT_MARK = '@@peers-result@@';

if (require.main === module) {
  compare(JSON.parse(process.argv[2]) as CompareOptions).then(
    (result) => {
      process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
