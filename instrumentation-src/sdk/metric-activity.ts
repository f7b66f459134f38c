/**
 * Whether the function recorded a measurement since the last end-of-invocation
 * flush, so that invocations that recorded none skip the metric collection
 * (about a tenth of the instrumentation's CPU per invocation when nothing is
 * exported). The SDK meter provider's getMeter is wrapped on the instance, so
 * meters from the global API, from instrumentations and from the provider
 * itself are all seen. Observable instruments are read at collection time,
 * so once one exists every flush collects. What is skipped is only a re-send:
 * cumulative points that did not change still go out with the periodic
 * export (OTEL_METRIC_EXPORT_INTERVAL) and with the next invocation that
 * records something.
 */
import type {
  BatchObservableCallback,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterOptions,
  MetricAttributes,
  MetricOptions,
  Observable,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';

/** What the meters of one provider have seen since the last take. */
interface Activity {
  recorded: boolean;
  /** Observable instruments or batch callbacks exist: a collection may find something at any time. */
  observed: boolean;
}

/**
 * Makes every meter of `provider` note its measurements. Returns the check for the flush: whether a
 * collection may find something new since the last check.
 */
export function trackMeasurements(provider: MeterProvider): () => boolean {
  const activity: Activity = { recorded: false, observed: false };
  const getMeter = provider.getMeter.bind(provider);
  const tracked = new WeakMap<Meter, Meter>();
  provider.getMeter = (name: string, version?: string, options?: MeterOptions): Meter => {
    const meter = getMeter(name, version, options);
    let wrapper = tracked.get(meter);
    if (!wrapper) {
      wrapper = new TrackingMeter(meter, activity);
      tracked.set(meter, wrapper);
    }
    return wrapper;
  };
  return () => {
    const active = activity.recorded || activity.observed;
    activity.recorded = false;
    return active;
  };
}

class TrackingMeter implements Meter {
  constructor(
    private readonly meter: Meter,
    private readonly activity: Activity,
  ) {}

  createCounter<A extends MetricAttributes>(name: string, options?: MetricOptions): Counter<A> {
    const counter = this.meter.createCounter<A>(name, options);
    return {
      add: (value, attributes, context) => {
        this.activity.recorded = true;
        counter.add(value, attributes, context);
      },
    };
  }

  createUpDownCounter<A extends MetricAttributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    const counter = this.meter.createUpDownCounter<A>(name, options);
    return {
      add: (value, attributes, context) => {
        this.activity.recorded = true;
        counter.add(value, attributes, context);
      },
    };
  }

  createHistogram<A extends MetricAttributes>(name: string, options?: MetricOptions): Histogram<A> {
    const histogram = this.meter.createHistogram<A>(name, options);
    return {
      record: (value, attributes, context) => {
        this.activity.recorded = true;
        histogram.record(value, attributes, context);
      },
    };
  }

  createGauge<A extends MetricAttributes>(name: string, options?: MetricOptions): Gauge<A> {
    const gauge = this.meter.createGauge<A>(name, options);
    return {
      record: (value, attributes, context) => {
        this.activity.recorded = true;
        gauge.record(value, attributes, context);
      },
    };
  }

  // Observable instruments stay the SDK's own objects: batch callbacks are matched against them.
  createObservableGauge<A extends MetricAttributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    this.activity.observed = true;
    return this.meter.createObservableGauge<A>(name, options);
  }

  createObservableCounter<A extends MetricAttributes>(name: string, options?: MetricOptions): ObservableCounter<A> {
    this.activity.observed = true;
    return this.meter.createObservableCounter<A>(name, options);
  }

  createObservableUpDownCounter<A extends MetricAttributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableUpDownCounter<A> {
    this.activity.observed = true;
    return this.meter.createObservableUpDownCounter<A>(name, options);
  }

  addBatchObservableCallback<A extends MetricAttributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this.activity.observed = true;
    this.meter.addBatchObservableCallback(callback, observables);
  }

  removeBatchObservableCallback<A extends MetricAttributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this.meter.removeBatchObservableCallback(callback, observables);
  }
}
