/**
 * The remote write suite (../extension/exporters/prometheus-remote-write/remote-write-suite.ts) against real
 * Cortex, the engine behind Amazon Managed Service for Prometheus, with AMP's
 * quotas and a tenant header playing the workspace: every metric type queried
 * back exactly through Cortex's own query API, staleness at SHUTDOWN.
 */
import { remoteWriteSuite } from '../extension/exporters/prometheus-remote-write/remote-write-suite.js';
import { CortexServer, cortexBinary } from '../support/cortex.js';

remoteWriteSuite(
  'Cortex with AMP quotas',
  cortexBinary()
    ? async () => {
        const cortex = (await CortexServer.start()) as CortexServer;
        return { backend: cortex.tenant('remote-write-suite'), stop: () => cortex.stop() };
      }
    : undefined,
);
