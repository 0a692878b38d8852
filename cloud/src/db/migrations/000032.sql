-- Drivers' push notifications (issue 19 §4): low range, service due and challenge results, each
-- with its own setting per user (default on), next to the user's units and language. A row
-- written before this migration keeps the defaults (on).
ALTER TABLE user_preferences
  ADD COLUMN push_low_range         boolean NOT NULL DEFAULT true,
  ADD COLUMN push_service_due       boolean NOT NULL DEFAULT true,
  ADD COLUMN push_challenge_results boolean NOT NULL DEFAULT true;

-- A vehicle's low-range episode: opened by the push sweep when the estimated range falls below the
-- threshold, closed when it is back above it (a refuel). Its id is in the push's idempotency key,
-- so a driver hears once per episode, however many sweeps see the range low or however often the
-- cloud restarts. At most one open episode per vehicle (the unique index).
CREATE TABLE low_range_episodes (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  vehicle_id text NOT NULL REFERENCES vehicles (id),
  started_at timestamptz NOT NULL DEFAULT now(),
  range_km   real NOT NULL CHECK (range_km >= 0),
  ended_at   timestamptz,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX low_range_episodes_open ON low_range_episodes (tenant_id, vehicle_id) WHERE ended_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON low_range_episodes TO fleet_app;
ALTER TABLE low_range_episodes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON low_range_episodes TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
