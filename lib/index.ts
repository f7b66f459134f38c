export * from './dashboard.js';
export * from './destinations.js';
export * from './grafana-workspace.js';
export * from './observe.js';
export * from './observed-function.js';
export * from './prometheus-workspace.js';
export * from './telemetry-extension.js';
export * from './telemetry-options.js';
