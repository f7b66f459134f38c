/** The extension's log lines: one format, the level threshold, and the once-per-key rule shared by its parts. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../extension-src/self-telemetry/log.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: string[] = [];
  return { log: createLogger(level, (line) => lines.push(line)), lines };
}

describe('Logger', () => {
  it('writes one prefixed line per message at or above its level', () => {
    const { log, lines } = capture('warn');
    log.info('not shown');
    log.warn('backend slow\n  retrying');
    expect(lines).toEqual(['[observed-lambda] WARN backend slow retrying']);
    expect(log.debugEnabled).toBe(false);
  });

  it('says a keyed message once', () => {
    const { log, lines } = capture();
    log.once('down', 'warn', 'backend down');
    log.once('down', 'warn', 'backend down again');
    expect(lines).toEqual(['[observed-lambda] WARN backend down']);
  });

  it('a child names its part in each line and keeps its own once-keys', () => {
    const { log, lines } = capture();
    const remoteWrite = log.child('remote-write');
    const pushgateway = log.child('pushgateway');
    remoteWrite.once('series-forgotten', 'warn', 'too many series');
    remoteWrite.once('series-forgotten', 'warn', 'too many series');
    pushgateway.once('series-forgotten', 'warn', 'too many series');
    log.once('series-forgotten', 'error', 'too many series');
    pushgateway.child('group').info('pushed');
    expect(lines).toEqual([
      '[observed-lambda] WARN remote-write: too many series',
      '[observed-lambda] WARN pushgateway: too many series',
      '[observed-lambda] ERROR too many series',
      '[observed-lambda] INFO pushgateway: group: pushed',
    ]);
  });

  it('a child follows its parent level', () => {
    const { log, lines } = capture('error');
    log.child('opensearch').warn('hidden');
    log.child('opensearch').error('shown');
    expect(lines).toEqual(['[observed-lambda] ERROR opensearch: shown']);
  });
});
