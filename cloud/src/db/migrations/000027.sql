-- Fair driver scores, their explanation and disputes (issue 19 §1-2).
--
--   driver_score_settings (per tenant)    weights, minimum distance, window, peer groups, anonymity
--   vehicle_events + vehicle_assignments + telemetry_minute
--     --> cloud/src/drivers/scoring/rescore.ts scoresForDay(tenant, day), daily and on a decision
--     --> driver_day_scores (tenant, user, day): the rolling-window score, its percentile in the
--         peer group and the points each metric cost, so trends and leaderboards read rows
--   event_disputes: a driver's objection to one event and the manager's decision; an event with
--     a pending or accepted dispute is left out of scoring (rejected: counted again)

CREATE TABLE driver_score_settings (
  tenant_id     text PRIMARY KEY REFERENCES tenants (id),
  -- {"harsh_accel": 1, ...} (cloud/src/drivers/scoring/score.ts METRICS); a missing key: the default.
  weights       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(weights) = 'object'),
  min_km        real NOT NULL DEFAULT 100 CHECK (min_km >= 0 AND min_km <= 100000),
  window_days   smallint NOT NULL DEFAULT 28 CHECK (window_days BETWEEN 1 AND 90),
  peer_group_by text NOT NULL DEFAULT 'class' CHECK (peer_group_by IN ('class', 'group', 'tenant')),
  anonymise     boolean NOT NULL DEFAULT true,
  rpm_low       real NOT NULL DEFAULT 1000 CHECK (rpm_low >= 0),
  rpm_high      real NOT NULL DEFAULT 2500 CHECK (rpm_high > rpm_low),
  updated_by    text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE driver_day_scores (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The UTC day the window ends with (inclusive).
  day         date NOT NULL,
  window_days smallint NOT NULL,
  km          double precision NOT NULL CHECK (km >= 0),
  -- NULL: under the minimum distance (no score shown).
  score       real CHECK (score IS NULL OR score BETWEEN 0 AND 100),
  percentile  real CHECK (percentile IS NULL OR percentile BETWEEN 0 AND 100),
  peer_group  text NOT NULL,
  -- {metric: {value, subScore, share, pointsLost} | null (left out)}
  metrics     jsonb NOT NULL CHECK (jsonb_typeof(metrics) = 'object'),
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, day)
);
CREATE INDEX driver_day_scores_day ON driver_day_scores (tenant_id, day);

CREATE TABLE event_disputes (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id),
  vehicle_id       text NOT NULL,
  event_id         bigint NOT NULL,
  user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  comment          text NOT NULL CHECK (length(comment) BETWEEN 1 AND 1000),
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  decided_by       text,
  decided_at       timestamptz,
  decision_comment text CHECK (decision_comment IS NULL OR length(decision_comment) <= 1000),
  FOREIGN KEY (tenant_id, vehicle_id, event_id) REFERENCES vehicle_events (tenant_id, vehicle_id, event_id),
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One open or accepted dispute per event: a rejected one may be followed by a new objection.
CREATE UNIQUE INDEX event_disputes_live ON event_disputes (tenant_id, vehicle_id, event_id)
  WHERE status IN ('pending', 'accepted');
CREATE INDEX event_disputes_user ON event_disputes (tenant_id, user_id, created_at DESC);

GRANT SELECT, INSERT, UPDATE ON driver_score_settings TO fleet_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON driver_day_scores TO fleet_app;
GRANT SELECT, INSERT ON event_disputes TO fleet_app;
-- Deciding is the only change to a dispute.
GRANT UPDATE (status, decided_by, decided_at, decision_comment) ON event_disputes TO fleet_app;

ALTER TABLE driver_score_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE driver_day_scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_disputes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON driver_score_settings TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON driver_day_scores TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON event_disputes TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
