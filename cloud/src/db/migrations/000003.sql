-- What each vehicle's agent had to throw away under its disk budget, as it last reported it
-- (TelemetryBatch.dropped: cumulative counters since the agent's database was created). Samples
-- evicted before they were synced never reach `telemetry`; this is where the cloud learns how
-- many, per vehicle. Counters only grow: a batch delivered late never lowers them.
CREATE TABLE vehicle_agent_drops (
  vehicle_id   text PRIMARY KEY,
  tenant_id    text NOT NULL,
  raw_synced   bigint NOT NULL DEFAULT 0,
  raw_unsynced bigint NOT NULL DEFAULT 0,
  rollups      bigint NOT NULL DEFAULT 0,
  events       bigint NOT NULL DEFAULT 0,
  reported_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT ON vehicle_agent_drops TO fleet_app;
ALTER TABLE vehicle_agent_drops ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vehicle_agent_drops TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
