import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { ConstructValidationError, childPath } from './errors.js';
import { defaultProjectRoot, handlerModuleFormat, writeEntry } from './function-entry.js';
import { markObserved } from './observe.js';
import { acceptsCallbackHandlers, defaultNodeRuntime, unsupportedRuntimeReason } from './runtimes.js';
import { applyTelemetry, type TelemetryOptions, validateTelemetryOptions } from './telemetry-options.js';

/** Properties of an {@link ObservedFunction}: those of a NodejsFunction plus where its telemetry goes. */
export interface ObservedFunctionProps extends nodejs.NodejsFunctionProps {
  /** Where the function's telemetry goes. */
  readonly telemetry: TelemetryOptions;
}

/**
 * A Node.js function whose OpenTelemetry traces, metrics and logs, and the
 * Lambda platform's own telemetry, reach the given destinations.
 *
 * The handler (ES module or CommonJS, async or callback style) is bundled
 * through a generated entry that starts the OpenTelemetry SDK before the
 * handler module loads and flushes it before every return; the extension
 * layer, its `OBSERVED_*` environment and the IAM each destination needs are
 * added to the function.
 */
export class ObservedFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: ObservedFunctionProps) {
    super(scope, id, ObservedFunction.bundledProps(scope, id, props));
    // Marked before its telemetry: its bundle instruments it, so the exec wrapper must never be added to it.
    markObserved(this);
    applyTelemetry(this, props.telemetry, 'ObservedFunction');
  }

  private static bundledProps(scope: Construct, id: string, props: ObservedFunctionProps): nodejs.NodejsFunctionProps {
    const where = 'ObservedFunction';
    const path = childPath(scope, id);
    const refuse = (message: string) => new ConstructValidationError(path, message);
    const reason = unsupportedRuntimeReason(props.runtime ?? defaultNodeRuntime());
    if (reason !== undefined) throw refuse(`${where} cannot observe this function: ${reason}`);
    if (props.code !== undefined) {
      throw refuse(`${where} bundles the handler itself: give \`entry\` (the handler file) instead of \`code\``);
    }
    if (props.entry === undefined) {
      throw refuse(`${where}: \`entry\` is required (the file that exports the handler, e.g. 'src/api.ts')`);
    }
    const entry = resolve(props.entry);
    if (!existsSync(entry)) throw refuse(`${where}: the entry file ${entry} does not exist`);
    validateTelemetryOptions(where, props.telemetry, path);
    const exportName = props.handler ?? 'handler';
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(exportName)) {
      throw refuse(
        `${where}: \`handler\` is the name of the exported handler function (e.g. 'handler'); got "${exportName}"`,
      );
    }
    const projectRoot =
      props.projectRoot !== undefined ? resolve(props.projectRoot) : defaultProjectRoot(props.depsLockFilePath);
    const format =
      props.bundling?.format ??
      (handlerModuleFormat(entry) === 'esm' ? nodejs.OutputFormat.ESM : nodejs.OutputFormat.CJS);
    const bundling: nodejs.BundlingOptions = {
      ...props.bundling,
      format,
      // Bundled CommonJS dependencies call require(); an ES module output has none unless it is created.
      banner:
        props.bundling?.banner ??
        (format === nodejs.OutputFormat.ESM
          ? "import { createRequire as __observedCreateRequire } from 'node:module'; const require = __observedCreateRequire(import.meta.url);"
          : undefined),
      mainFields: props.bundling?.mainFields ?? (format === nodejs.OutputFormat.ESM ? ['module', 'main'] : undefined),
    };
    const runtime: lambda.Runtime = props.runtime ?? defaultNodeRuntime();
    return {
      ...props,
      runtime,
      entry: writeEntry(projectRoot, entry, exportName, { callbacksAsPromises: !acceptsCallbackHandlers(runtime) }),
      handler: 'handler',
      projectRoot,
      bundling,
    };
  }
}
