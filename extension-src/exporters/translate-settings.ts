/**
 * Translation settings shared by the remote write and Pushgateway exporters,
 * from the OBSERVED_PROMETHEUS_* variables.
 */
import { type ConfigReader, type Env, type Parsed, readFrom } from '../env/reader.js';
import { compareLabels, type Label, MIN_LABEL_VALUE_LENGTH } from '../translate/labels.js';
import { sanitizeLabelName } from '../translate/names.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from '../translate/translator.js';

/** `nativeHistograms: false` for a target without them (the text format): the variable is then not read. */
export function readTranslateOptions(
  reader: ConfigReader,
  target: { readonly nativeHistograms: boolean } = { nativeHistograms: true },
): TranslateOptions {
  const external: Label[] = [];
  for (const [name, value] of reader.keyValues('OBSERVED_PROMETHEUS_EXTERNAL_LABELS')) {
    const clean = sanitizeLabelName(name);
    // `__replica__` (HA pairs in Cortex/AMP) keeps its double underscores.
    const labelName = /^__[a-zA-Z0-9_]*__$/.test(name) && name !== '__name__' ? name : clean;
    if (labelName !== name) {
      reader.note(`OBSERVED_PROMETHEUS_EXTERNAL_LABELS: label name "${name}" is used as "${labelName}"`);
    }
    if (value === '') continue;
    external.push({ name: labelName, value });
  }
  external.sort(compareLabels);
  const defaults = DEFAULT_TRANSLATE_OPTIONS;
  return {
    nativeHistograms:
      target.nativeHistograms && reader.boolean('OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS', defaults.nativeHistograms),
    externalLabels: external,
    promotedResourceAttributes: reader.list('OBSERVED_PROMETHEUS_RESOURCE_LABELS'),
    scopeLabels: reader.boolean('OBSERVED_PROMETHEUS_SCOPE_LABELS', defaults.scopeLabels),
    targetInfo: reader.boolean('OBSERVED_PROMETHEUS_TARGET_INFO', defaults.targetInfo),
    maxLabelValueBytes: reader.integer(
      'OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH',
      defaults.maxLabelValueBytes,
      MIN_LABEL_VALUE_LENGTH,
      1024 * 1024,
    ),
    maxLabelsPerSeries: reader.integer('OBSERVED_PROMETHEUS_MAX_LABELS', defaults.maxLabelsPerSeries, 4, 10_000),
  };
}

export function parseTranslateOptions(env: Env): Parsed<TranslateOptions> {
  return readFrom(env, (reader) => readTranslateOptions(reader));
}
