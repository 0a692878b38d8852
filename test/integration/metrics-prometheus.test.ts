/**
 * Metrics people can watch, checked with the real tools:
 *
 *   firmware-sim ─> fleet-agent ─> aedes ─> cloud (ingest, API, notifications) ─/metrics─> Prometheus
 *                                                                                  (Debian package)
 *
 * A running stack (embedded defaults, two vehicles at real time) is scraped every second by a real
 * Prometheus loading docker/prometheus/fleet.rules.yml; its HTTP API must show the key series
 * with values that agree with the database. promtool checks and unit-tests the rules (and a
 * changed threshold must break those unit tests). Every metric each Grafana dashboard names must
 * be among the names the scrape returned, and a dashboard naming one that is not fails that check.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promqlMetricNames } from '../../cloud/src/metrics/promql-names.ts';
import { freePort, REPO_ROOT, type Supervised, supervise, waitForHttp } from '../../scripts/lib/processes.ts';
import { type Stack, startStack } from '../../scripts/lib/stack.ts';

const RULES_DIR = path.join(REPO_ROOT, 'docker/prometheus');
const GRAFANA_DIR = path.join(REPO_ROOT, 'docker/grafana');
const VEHICLES = 2;

/** Fails loudly with the install command: never a silent skip. */
function requireBinary(command: string, pkg: string) {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0)
    throw new Error(`${command} is required: apt-get install -y ${pkg} (scripts/test.sh installs it)`);
}

function promtool(args: string[], cwd: string) {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let stack: Stack;
let prometheus: Supervised;
let promUrl: string;
let workDir: string;
let sse: AbortController | undefined;

async function promApi<T>(pathAndQuery: string): Promise<T> {
  const res = await fetch(`${promUrl}${pathAndQuery}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${body.error}`);
  return body.data;
}
const query = async (expr: string) =>
  (await promApi<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
/** The value of a query that yields one series; undefined when it yields none. */
async function value(expr: string): Promise<number | undefined> {
  const r = await query(expr);
  if (r.length > 1) throw new Error(`${expr}: ${r.length} series, expected one`);
  return r[0] ? Number(r[0].value[1]) : undefined;
}
async function eventually(expr: string, ok: (v: number) => boolean, timeoutMs = 45_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: number | undefined;
  for (;;) {
    last = await value(expr);
    if (last !== undefined && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${expr}: still ${last} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a running stack scraped by a real Prometheus', () => {
  beforeAll(async () => {
    requireBinary('prometheus', 'prometheus');
    requireBinary('promtool', 'prometheus');
    workDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-metrics-'));
    const metricsPort = await freePort();
    stack = await startStack({
      vehicles: VEHICLES,
      web: false,
      apiPort: 0,
      mqttPort: 0,
      pgPort: 0,
      dataDir: path.join(workDir, 'stack'),
      cloudEnv: { FLEET_METRICS_PORT: String(metricsPort) },
    });
    const config = path.join(workDir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(path.join(RULES_DIR, 'fleet.rules.yml'))}]`,
        'scrape_configs:',
        '  - job_name: fleet-cloud',
        `    static_configs: [{ targets: ["127.0.0.1:${metricsPort}"] }]`,
        '',
      ].join('\n'),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = supervise(
      'prometheus',
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(workDir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { logDir: stack.logDir },
    );
    await waitForHttp(`${promUrl}/-/ready`, 30_000);
  }, 120_000);

  afterAll(async () => {
    sse?.abort();
    await prometheus?.stop();
    await stack?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('exports ingest, agent (per group), API, notification and process series with values that agree with the database', async () => {
    // Telemetry flowed: the counters went up in the scrape.
    const inserted = await eventually('sum(fleet_ingest_samples_total{result="inserted"})', (v) => v >= 10);
    expect(await value('up{job="fleet-cloud"}')).toBe(1);

    // The API: a refused call, a sign-in, a query and an open live stream, seen through Prometheus.
    const listUrl = `${stack.apiUrl}/trpc/vehicles.list?input=${encodeURIComponent('{"limit":10}')}`;
    expect((await fetch(listUrl)).status).toBe(401);
    const login = await fetch(`${stack.apiUrl}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(stack.admin),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const list = await fetch(listUrl, { headers: { cookie } });
    expect(list.status).toBe(200);
    sse = new AbortController();
    const stream = await fetch(`${stack.apiUrl}/trpc/live.positions`, {
      headers: { cookie, accept: 'text/event-stream' },
      signal: sse.signal,
    });
    expect(stream.status).toBe(200);
    expect(await eventually('sum(fleet_api_sse_clients)', (v) => v === 1)).toBe(1);
    await eventually(
      'sum(fleet_api_request_duration_seconds_count{procedure="vehicles.list",type="query"})',
      (v) => v >= 1,
    );
    expect(
      await value('sum(fleet_api_request_duration_seconds_count{procedure="auth.login",type="mutation"})'),
    ).toBeGreaterThanOrEqual(1);
    // The refused GET ran twice (the direct answer declined, the adapter answered): counted once.
    expect(
      await value('sum(fleet_api_request_errors_total{procedure="vehicles.list",code="UNAUTHORIZED"})'),
    ).toBe(1);
    sse.abort();
    expect(await eventually('sum(fleet_api_sse_clients)', (v) => v === 0)).toBe(0);

    // Samples: never more in the scrape than in the database (the scrape is older), never none.
    const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
    try {
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
      expect(inserted).toBeGreaterThan(0);
      expect(inserted).toBeLessThanOrEqual(Number(rows[0]!.n));
    } finally {
      await db.end();
    }
    // The pulled totals (the ingest's stats) and the pushed group figures agree, scrape by scrape.
    expect(await value('sum(fleet_ingest_samples_total) - sum(fleet_ingest_group_samples_sum)')).toBe(0);
    const batches = (await value('sum(fleet_ingest_batches_total{stream="telemetry"})'))!;
    expect(batches).toBeGreaterThan(0);
    expect(await value('sum(fleet_ingest_statuses_total)')).toBeGreaterThanOrEqual(VEHICLES);
    expect(await value('sum(fleet_ingest_acks_total{stream="telemetry"})')).toBeGreaterThan(0);
    // Group transactions: at least one message each, batch sizes add up to the batches.
    const groups = (await value('fleet_ingest_group_messages_count{lane="live"}'))!;
    expect(groups).toBeGreaterThan(0);
    expect(await value('fleet_ingest_group_messages_sum{lane="live"}')).toBeGreaterThanOrEqual(groups);
    expect(await value('fleet_ingest_group_samples_sum{lane="live"}')).toBeGreaterThanOrEqual(inserted);
    const commitP99 = (await value(
      'histogram_quantile(0.99, sum by (le) (fleet_ingest_commit_seconds_bucket{lane="live"}))',
    ))!;
    expect(commitP99).toBeGreaterThan(0);
    expect(commitP99).toBeLessThan(5);
    // Lag from the vehicle's GPS time (real time here) to COMMIT: the agent flushes every second.
    const lagP50 = (await value('histogram_quantile(0.5, sum by (le) (fleet_ingest_lag_seconds_bucket))'))!;
    expect(lagP50).toBeGreaterThan(0);
    expect(lagP50).toBeLessThan(30);
    const sinceCommit = (await value('time() - max(fleet_ingest_last_commit_timestamp_seconds)'))!;
    expect(sinceCommit).toBeLessThan(30);
    expect(await value('sum(fleet_ingest_rejects_total)')).toBe(0);

    // Agents, per group, from their status health block.
    const online = await query('fleet_vehicles{state="online"}');
    expect(online.map((s) => [s.metric.tenant, s.metric.group, Number(s.value[1])])).toEqual([
      ['demo', '(no group)', VEHICLES],
    ]);
    expect(await eventually('sum(fleet_agents_reporting)', (v) => v === VEHICLES)).toBe(VEHICLES);
    expect(await value('sum(fleet_agent_clock_source)')).toBe(VEHICLES);
    expect(await value('sum(fleet_agent_disk_budget_bytes)')).toBeGreaterThan(0);
    const ratio = (await value('max(fleet_agent_disk_used_ratio)'))!;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    expect(await value('sum(fleet_agent_unsent_samples)')).toBeGreaterThanOrEqual(0);
    expect(await value('sum(fleet_agent_evicted_rows)')).toBe(0);

    // Notifications and the process.
    expect(await value('fleet_notification_queue_jobs')).toBe(0);
    expect(await value('sum(fleet_notification_deliveries_total)')).toBe(0);
    expect(await value('sum(fleet_notification_outbox)')).toBe(0);
    expect(await value('process_cpu_seconds_total')).toBeGreaterThan(0);

    // Low cardinality: no label carries a vehicle id.
    const series = await promApi<Record<string, string>[]>(
      `/api/v1/series?match[]=${encodeURIComponent('{__name__=~"fleet_.+"}')}`,
    );
    expect(series.length).toBeGreaterThan(50);
    const ids = new Set(stack.vehicles.map((v) => v.id));
    const leaks = series.filter((s) => Object.values(s).some((v) => ids.has(v) || /veh-\d/.test(v)));
    expect(leaks).toEqual([]);

    // The alerting rules loaded, evaluate without error against real data, and none fires.
    const rules = await promApi<{ groups: { rules: { name: string; health: string; state: string }[] }[] }>(
      '/api/v1/rules?type=alert',
    );
    const loaded = rules.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(alertNames().sort());
    expect(loaded.filter((r) => r.health !== 'ok')).toEqual([]);
    expect(loaded.filter((r) => r.state === 'firing')).toEqual([]);
  }, 90_000);

  it('holds every Grafana dashboard and alerting rule to the metric names the scrape returned; a missing one fails', async () => {
    const scraped = new Set(await promApi<string[]>('/api/v1/label/__name__/values'));
    expect(scraped.has('fleet_ingest_samples_total')).toBe(true);

    const dashboards = readdirSync(path.join(GRAFANA_DIR, 'dashboards'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(GRAFANA_DIR, 'dashboards', f), 'utf8')) as Dashboard);
    expect(dashboards.map((d) => d.uid).sort()).toEqual([
      'fleet-agents',
      'fleet-api',
      'fleet-ingest',
      'fleet-notifications',
    ]);
    const datasource = /uid:\s*(\S+)/.exec(
      readFileSync(path.join(GRAFANA_DIR, 'provisioning/datasources/prometheus.yml'), 'utf8'),
    )![1];
    for (const d of dashboards) {
      expect(dashboardMetrics(d).length, d.uid).toBeGreaterThanOrEqual(3);
      expect(missingFromScrape(d, scraped), d.uid).toEqual([]);
      for (const p of d.panels) expect([p.datasource.uid, p.title]).toEqual([datasource, p.title]);
    }

    // The check bites: a panel naming a metric no process exports is reported.
    const broken = structuredClone(dashboards[0]!);
    broken.panels[0]!.targets[0]!.expr = 'sum(rate(fleet_agent_outbox_depth_total[5m]))';
    expect(missingFromScrape(broken, scraped)).toEqual(['fleet_agent_outbox_depth_total']);

    // The rules, as Prometheus loaded them, name exported metrics only.
    const rules = await promApi<{ groups: { rules: { query: string }[] }[] }>('/api/v1/rules');
    const ruleMetrics = rules.groups.flatMap((g) => g.rules.flatMap((r) => promqlMetricNames(r.query)));
    expect(ruleMetrics.length).toBeGreaterThan(8);
    expect(ruleMetrics.filter((m) => !scraped.has(m))).toEqual([]);
  }, 30_000);
});

describe('alerting rules (docker/prometheus)', () => {
  it('pass promtool check rules, check config and test rules; a changed threshold fails the rule tests', () => {
    const check = promtool(['check', 'rules', 'fleet.rules.yml'], RULES_DIR);
    expect(check.output).toContain(`SUCCESS: ${alertNames().length} rules found`);
    expect(check.status).toBe(0);
    const config = promtool(['check', 'config', 'prometheus.yml'], RULES_DIR);
    expect(config.status, config.output).toBe(0);
    const tests = promtool(['test', 'rules', 'fleet.rules.test.yml'], RULES_DIR);
    expect(tests.output).toContain('SUCCESS');
    expect(tests.status, tests.output).toBe(0);

    // The unit tests pin the thresholds: half a group offline, not 90% of it.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-rules-'));
    try {
      const rules = readFileSync(path.join(RULES_DIR, 'fleet.rules.yml'), 'utf8');
      const changed = rules.replace(/(\/ sum by \(tenant, group\)[^\n]*\n\s*)> 0\.5/, '$1> 0.9');
      expect(changed).not.toBe(rules);
      writeFileSync(path.join(dir, 'fleet.rules.yml'), changed);
      copyFileSync(path.join(RULES_DIR, 'fleet.rules.test.yml'), path.join(dir, 'fleet.rules.test.yml'));
      const failing = promtool(['test', 'rules', 'fleet.rules.test.yml'], dir);
      expect(failing.status).not.toBe(0);
      expect(failing.output).toContain('FleetDevicesOffline');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

interface Dashboard {
  uid: string;
  panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
  templating: { list: { query: { query: string } | string }[] };
}

/** Every metric a dashboard's panels and variables (`label_values(metric, label)`) read. */
function dashboardMetrics(d: Dashboard): string[] {
  const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr));
  for (const v of d.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.*),\s*\w+\)$/.exec(q);
    exprs.push(m ? m[1]! : q);
  }
  return [...new Set(exprs.flatMap(promqlMetricNames))];
}

const missingFromScrape = (d: Dashboard, scraped: Set<string>) =>
  dashboardMetrics(d).filter((m) => !scraped.has(m));

function alertNames(): string[] {
  const text = readFileSync(path.join(RULES_DIR, 'fleet.rules.yml'), 'utf8');
  return [...text.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
}
