/**
 * The remote write suite (./remote-write-suite.ts) against a real single-node
 * Prometheus, what most self-hosted users run.
 */
import { findBinary, requireBinary } from '../../../support/binaries.js';
import { PrometheusServer } from '../../../support/prometheus.js';
import { remoteWriteSuite } from './remote-write-suite.js';

const available = findBinary('prometheus') !== undefined || requireBinary('prometheus') !== undefined;

remoteWriteSuite(
  'Prometheus',
  available
    ? async () => {
        const prom = (await PrometheusServer.start()) as PrometheusServer;
        return {
          backend: Object.assign(prom, { exporterEnv: { OBSERVED_REMOTE_WRITE_URL: prom.remoteWriteUrl } }),
          stop: () => prom.stop(),
        };
      }
    : undefined,
);
