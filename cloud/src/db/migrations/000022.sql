-- Report schedules and export runs (issue 17 §6): a report e-mailed daily, weekly, monthly or
-- quarterly at a local hour of the tenant's time zone, as an attachment or a signed link.
--
--   report_schedules.next_run_at ──(runner: FOR UPDATE SKIP LOCKED)──▶ report_runs (schedule, due_at)
--   reportSchedules.runNow / exportLink ──────────────────────────────▶ report_runs (queued / api)
--
-- A run is keyed by (schedule_id, due_at): two runners that both see a schedule due insert one
-- run, and the second one's insert does nothing (cloud/src/reports/schedules/runner.ts).

-- 1. The tenant's time zone (IANA name, checked by the application with Intl): schedules run at
--    local hours of it, and report periods are its local days, months and quarters.
ALTER TABLE tenants ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'
  CHECK (time_zone ~ '^[A-Za-z0-9_+/-]{1,64}$');
GRANT UPDATE (time_zone) ON tenants TO fleet_app;

-- 2. Schedules: the report (kind + zod-checked params), its file format, when, to whom, how.
CREATE TABLE report_schedules (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  kind         text NOT NULL CHECK (kind IN ('ifta', 'carbon', 'detail')),
  params       jsonb NOT NULL DEFAULT '{}',
  format       text NOT NULL CHECK (format IN ('xlsx', 'csv', 'pdf')),
  -- {frequency, hour, minute, weekday?, dayOfMonth?} (schedules/recurrence.ts)
  recurrence   jsonb NOT NULL,
  recipients   text[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 20),
  delivery     text NOT NULL CHECK (delivery IN ('attachment', 'link')),
  -- How long a mailed link works (delivery = 'link').
  link_ttl_hours integer NOT NULL DEFAULT 168 CHECK (link_ttl_hours BETWEEN 1 AND 720),
  enabled      boolean NOT NULL DEFAULT true,
  next_run_at  timestamptz,
  created_by   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_schedules_due ON report_schedules (next_run_at) WHERE enabled;
CREATE INDEX report_schedules_tenant ON report_schedules (tenant_id);

-- 3. Runs: one per (schedule, due instant), or one per manual run / API export. Progress (rows
--    done of an estimated total) is written while the export streams; the lease says until when
--    the runner that took it is presumed alive (after that another runner takes it again).
CREATE TABLE report_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  schedule_id  bigint REFERENCES report_schedules (id) ON DELETE SET NULL,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'api')),
  due_at       timestamptz NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('ifta', 'carbon', 'detail')),
  params       jsonb NOT NULL DEFAULT '{}',
  format       text NOT NULL CHECK (format IN ('xlsx', 'csv', 'pdf')),
  period_from  timestamptz NOT NULL,
  period_to    timestamptz NOT NULL,
  status       text NOT NULL CHECK (status IN ('queued', 'running', 'sent', 'ready', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  lease_until  timestamptz,
  rows_done    bigint NOT NULL DEFAULT 0,
  rows_total   bigint,
  bytes        bigint,
  error        text,
  created_by   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  CHECK (period_from < period_to)
);
CREATE UNIQUE INDEX report_runs_once ON report_runs (schedule_id, due_at) WHERE trigger = 'schedule';
CREATE INDEX report_runs_tenant ON report_runs (tenant_id, id DESC);
CREATE INDEX report_runs_pending ON report_runs (status) WHERE status IN ('queued', 'running');

GRANT SELECT, INSERT, UPDATE, DELETE ON report_schedules TO fleet_app;
GRANT SELECT, INSERT, UPDATE ON report_runs TO fleet_app;
ALTER TABLE report_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON report_schedules TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON report_runs TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
