/**
 * Set-up of `npm run test:portable`: the sandbox suites of the extension run against the layer for
 * runtimes without Node.js, and every sandboxed environment starts its extensions with no node findable
 * (a trap first on PATH makes any run of node fail, so an extension that needed one could not start).
 */
import { LambdaEnvironment, type LambdaEnvironmentOptions } from '../../sandbox/index.js';

process.env.OBSERVED_TEST_LAYER = 'portable';
const start = LambdaEnvironment.start.bind(LambdaEnvironment);
LambdaEnvironment.start = (options: LambdaEnvironmentOptions) => start({ extensionsWithoutNode: true, ...options });
