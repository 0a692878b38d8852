-- Alert rules (cloud/src/alerts/rules): what fires, where, when, how loud and whom it reaches.
-- The definition is the zod-checked AlertRuleInput (rule.ts) as JSON: one schema for the API,
-- the engine and this row; `source` is a column because the ingest looks rules up by it.
CREATE TABLE alert_rules (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  source      text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_]{1,40}$'),
  enabled     boolean NOT NULL DEFAULT true,
  definition  jsonb NOT NULL,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_tenant_source ON alert_rules (tenant_id, source) WHERE enabled;

-- Lifecycle: one open alert per (vehicle, rule, episode); repeats raise `count`. Active/cleared
-- (`cleared_at`: the condition ended) is apart from the people's status (open, acknowledged,
-- resolved). Escalation moves `escalation_level` while the alert stays unacknowledged.
ALTER TABLE alerts
  ADD COLUMN rule_id          bigint REFERENCES alert_rules (id) ON DELETE SET NULL,
  ADD COLUMN episode          text,
  ADD COLUMN count            integer NOT NULL DEFAULT 1 CHECK (count >= 1),
  ADD COLUMN last_seen_at     timestamptz,
  ADD COLUMN cleared_at       timestamptz,
  ADD COLUMN escalation_level integer NOT NULL DEFAULT 0,
  ADD COLUMN escalated_at     timestamptz;
CREATE UNIQUE INDEX alerts_open_episode ON alerts (tenant_id, vehicle_id, rule_id, episode)
  WHERE rule_id IS NOT NULL AND status <> 'resolved';
CREATE INDEX alerts_escalation ON alerts (status, rule_id) WHERE rule_id IS NOT NULL AND status = 'open';

-- Severities of the rules (critical, major, minor, warning, info); sources are an open set
-- (maintenance adds service_due), so the type is checked for form, not against a list.
ALTER TABLE alerts DROP CONSTRAINT alerts_severity_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_severity_check
  CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info'));
ALTER TABLE alerts DROP CONSTRAINT alerts_type_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_type_check CHECK (type ~ '^[a-z][a-z0-9_]{1,40}$');

GRANT SELECT, INSERT, UPDATE, DELETE ON alert_rules TO fleet_app;
ALTER TABLE alert_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alert_rules TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
