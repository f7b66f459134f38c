/**
 * Names of the environment variables the constructs set on a function. The
 * extension reads the OBSERVED_* namespace (README, "Configuration"); the
 * function's own OpenTelemetry SDK keeps its OTEL_* defaults.
 */
export const ENV = {
  otlpEndpoint: 'OBSERVED_OTLP_ENDPOINT',
  otlpHeadersSecretArn: 'OBSERVED_OTLP_HEADERS_SECRET_ARN',
  otlpProtocol: 'OBSERVED_OTLP_PROTOCOL',
  otlpCompression: 'OBSERVED_OTLP_COMPRESSION',
  otlpTimeout: 'OBSERVED_OTLP_TIMEOUT',
  otlpMaxRequestBytes: 'OBSERVED_OTLP_MAX_REQUEST_BYTES',
  remoteWriteUrl: 'OBSERVED_REMOTE_WRITE_URL',
  remoteWriteMaxSamples: 'OBSERVED_REMOTE_WRITE_MAX_SAMPLES',
  remoteWriteMaxBytes: 'OBSERVED_REMOTE_WRITE_MAX_BYTES',
  remoteWriteQueueSamples: 'OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES',
  remoteWriteQueueBytes: 'OBSERVED_REMOTE_WRITE_QUEUE_BYTES',
  remoteWriteStaleSeries: 'OBSERVED_REMOTE_WRITE_STALE_SERIES',
  remoteWriteTimeoutMs: 'OBSERVED_REMOTE_WRITE_TIMEOUT_MS',
  prometheusExternalLabels: 'OBSERVED_PROMETHEUS_EXTERNAL_LABELS',
  prometheusResourceLabels: 'OBSERVED_PROMETHEUS_RESOURCE_LABELS',
  prometheusNativeHistograms: 'OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS',
  prometheusScopeLabels: 'OBSERVED_PROMETHEUS_SCOPE_LABELS',
  prometheusTargetInfo: 'OBSERVED_PROMETHEUS_TARGET_INFO',
  prometheusMaxLabelValueLength: 'OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH',
  prometheusMaxLabels: 'OBSERVED_PROMETHEUS_MAX_LABELS',
  pushgatewayUrl: 'OBSERVED_PUSHGATEWAY_URL',
  pushgatewayDeleteOnShutdown: 'OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN',
  pushgatewayTimeoutMs: 'OBSERVED_PUSHGATEWAY_TIMEOUT_MS',
  pushgatewayMaxSeries: 'OBSERVED_PUSHGATEWAY_MAX_SERIES',
  openSearchEndpoint: 'OBSERVED_OPENSEARCH_ENDPOINT',
  openSearchIndex: 'OBSERVED_OPENSEARCH_INDEX',
  openSearchTracesIndex: 'OBSERVED_OPENSEARCH_TRACES_INDEX',
  openSearchSigv4Service: 'OBSERVED_OPENSEARCH_SIGV4_SERVICE',
  openSearchCompression: 'OBSERVED_OPENSEARCH_COMPRESSION',
  openSearchMaxBytes: 'OBSERVED_OPENSEARCH_MAX_BYTES',
  openSearchQueueDocuments: 'OBSERVED_OPENSEARCH_QUEUE_DOCUMENTS',
  openSearchTimeoutMs: 'OBSERVED_OPENSEARCH_TIMEOUT_MS',
  flush: 'OBSERVED_FLUSH',
  flushMaxAgeMs: 'OBSERVED_FLUSH_MAX_AGE_MS',
  flushTimeoutMs: 'OBSERVED_FLUSH_TIMEOUT_MS',
  bufferMaxBytes: 'OBSERVED_BUFFER_MAX_BYTES',
  bufferMaxItems: 'OBSERVED_BUFFER_MAX_ITEMS',
  receiverPort: 'OBSERVED_RECEIVER_PORT',
  receiverGrpcPort: 'OBSERVED_RECEIVER_GRPC_PORT',
  receiverMaxBodyBytes: 'OBSERVED_RECEIVER_MAX_BODY_BYTES',
  receiverMaxDecompressedBytes: 'OBSERVED_RECEIVER_MAX_DECOMPRESSED_BYTES',
  telemetryTypes: 'OBSERVED_TELEMETRY_TYPES',
  telemetryMaxItems: 'OBSERVED_TELEMETRY_MAX_ITEMS',
  telemetryMaxBytes: 'OBSERVED_TELEMETRY_MAX_BYTES',
  telemetryTimeoutMs: 'OBSERVED_TELEMETRY_TIMEOUT_MS',
  selfMetrics: 'OBSERVED_SELF_METRICS',
  logLevel: 'OBSERVED_LOG_LEVEL',
  /** Lambda runs this script first; it sets the function's process up for telemetry (layer file). */
  execWrapper: 'AWS_LAMBDA_EXEC_WRAPPER',
} as const;

/** The layer's exec wrapper for functions the constructs did not bundle (`observe()`, `ObserveFunctions`). */
export const EXEC_WRAPPER_PATH = '/opt/observed-instrument';
