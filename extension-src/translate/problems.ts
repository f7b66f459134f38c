/**
 * What the translation gave up and why: drops counted by reason (the
 * exporters report them as `translation_<reason>`) and one warning per
 * distinct problem, so a bad metric sent every invocation logs once.
 */

export type DropReason =
  | 'out_of_order'
  | 'type_conflict'
  | 'invalid_point'
  | 'unsupported_scale'
  | 'unsupported_type'
  | 'too_many_labels';

/** Distinct warnings remembered; past this, new problems are still counted but no longer logged. */
const MAX_WARNINGS = 1000;

export class TranslationProblems {
  readonly dropped = new Map<DropReason, number>();
  /** Label values shortened to OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH, counted once per label set built. */
  labelValuesShortened = 0;
  /** Called once per distinct problem (metric name and reason), for a log line. */
  onWarning: (message: string) => void = () => {};
  private readonly warned = new Set<string>();

  /** Counts a drop; warns once per reason and subject (usually the metric's name). */
  drop(reason: DropReason, subject: string, message: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.warnOnce(`${reason}\u0000${subject}`, message);
  }

  /** A delta point refused by the running totals (see accumulate.ts). */
  outOfOrder(familyName: string): void {
    this.drop('out_of_order', familyName, `delta point of ${familyName} at or before the previous one; dropped`);
  }

  warnOnce(key: string, message: string): void {
    if (this.warned.has(key) || this.warned.size >= MAX_WARNINGS) return;
    this.warned.add(key);
    this.onWarning(message);
  }
}
