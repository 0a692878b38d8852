/**
 * The metric names a PromQL expression reads, so dashboards and rules can be held to what the
 * processes really export (cloud/test/metrics-prometheus.test.ts). Not a PromQL parser: it drops
 * what cannot be a metric name (strings, label matchers, ranges, grouping clauses, numbers and
 * durations, function calls, keywords) and keeps the identifiers left.
 */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  // Numbers (with exponents or duration units) first, so `5m` or `1e3` never yield a name.
  for (const m of stripped.matchAll(
    /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[A-Za-z]*|([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g,
  )) {
    const [, name, call] = m;
    if (name && !call && !KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}
