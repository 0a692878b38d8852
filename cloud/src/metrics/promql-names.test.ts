import { describe, expect, it } from 'vitest';
import { promqlMetricNames } from './promql-names.ts';

describe('promqlMetricNames', () => {
  it('keeps metric names and drops functions, labels, ranges, grouping, numbers and keywords', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le, lane) (rate(fleet_ingest_commit_seconds_bucket{lane="live",job=~"a|b"}[5m]))) > 1e3',
      ),
    ).toEqual(['fleet_ingest_commit_seconds_bucket']);
    expect(
      promqlMetricNames(
        'max by (tenant, group) (fleet_vehicles{state="offline"}) / on (tenant, group) group_left sum without (state) (fleet_vehicles offset 5m) and bool up',
      ).sort(),
    ).toEqual(['fleet_vehicles', 'up']);
    expect(promqlMetricNames('time() - max(fleet_ingest_last_commit_timestamp_seconds) > 120')).toEqual([
      'fleet_ingest_last_commit_timestamp_seconds',
    ]);
    expect(promqlMetricNames('sum(rate(process_cpu_seconds_total[$__rate_interval])) * 100')).toEqual([
      'process_cpu_seconds_total',
    ]);
  });

  it('finds a misspelt name (the check that holds dashboards to the scrape relies on it)', () => {
    expect(promqlMetricNames('sum(rate(fleet_ingest_samples_totl{result="inserted"}[1m]))')).toEqual([
      'fleet_ingest_samples_totl',
    ]);
  });
});
