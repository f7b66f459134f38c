/**
 * What exporters still hold when the process exits. The exit log line and the
 * self counters must add up (received = exported + dropped), so every item an
 * exporter has not delivered or counted as dropped by then is counted as
 * dropped with reason `exit`, in that exporter's own counter rows (same unit:
 * items, samples, documents).
 *
 * The remote write and Pushgateway exporters already report what they hold as
 * dropped (reason `shutdown`) from SHUTDOWN on; counting it here too would
 * count it twice, so they are left to themselves once SHUTDOWN has begun.
 */
import type { Exporter } from '../contracts/exporter.js';
import type { CounterSource, ExporterCounterRow } from '../self-telemetry/metrics.js';

export const EXIT_REASON = 'exit';

/** Exporters whose counters show their undelivered items as dropped once SHUTDOWN has begun. */
const COUNT_THEIR_OWN_FROM_SHUTDOWN = new Set(['remote-write', 'pushgateway']);

const rowKey = (exporter: string, signal: string) => `${exporter}\0${signal}`;

export class ExitAccounting {
  private readonly held = new Map<string, number>();
  private counted = false;

  constructor(private readonly exporters: readonly Exporter[]) {}

  /** An exporter's counter source with what it held at exit added to its rows. */
  source(source: CounterSource): CounterSource {
    return () =>
      source().map((row): ExporterCounterRow => {
        const held = this.held.get(rowKey(row.exporter, row.signal));
        if (!held) return row;
        return { ...row, dropped: { ...row.dropped, [EXIT_REASON]: (row.dropped[EXIT_REASON] ?? 0) + held } };
      });
  }

  /** At exit, once: counts every exporter's pending items as dropped. Returns how many. */
  countHeld(shutdownBegan: boolean): number {
    if (this.counted) return 0;
    this.counted = true;
    let total = 0;
    for (const exporter of this.exporters) {
      if (shutdownBegan && COUNT_THEIR_OWN_FROM_SHUTDOWN.has(exporter.name)) continue;
      let bySignal: Partial<Record<string, number>>;
      try {
        bySignal = exporter.pendingBySignal?.() ?? { [exporter.signals.join('+')]: exporter.pendingItems() };
      } catch {
        continue;
      }
      for (const [signal, count] of Object.entries(bySignal)) {
        if (!count || count <= 0) continue;
        const key = rowKey(exporter.name, signal);
        this.held.set(key, (this.held.get(key) ?? 0) + count);
        total += count;
      }
    }
    return total;
  }
}
