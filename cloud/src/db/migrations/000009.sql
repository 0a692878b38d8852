-- The vehicle's own detections in the cloud, fuel-card purchases, and their reconciliation.
--
--   agent SQLite events --MQTT .../events--> vehicle_events (tenant, vehicle, event_id) PK
--   fuel-card webhook / CSV / manual ------> fuel_transactions (tenant, source, external_id) UNIQUE
--   cloud/src/fuel/reconcile.ts -----------> fuel_reconciliations: one row per purchase, and one
--                                            per refuel that no purchase explains
--
-- No foreign key from vehicle_events to vehicles: like telemetry, the ingest registers (or
-- refuses) the vehicle in the same transaction, and the key would only cost a lookup per row.

-- Tank capacity, for "purchase larger than the tank's free volume" (domain.md: the classic fraud
-- signal). NULL: unknown, the check is skipped and the reconciliation says so.
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS tank_litres real
  CHECK (tank_litres IS NULL OR (tank_litres > 0 AND tank_litres <= 10000));

-- shared/src/events.ts VehicleEvent, one row per event; event_id is the agent's id, never reused,
-- so a redelivered batch inserts nothing (ON CONFLICT DO NOTHING on the primary key).
CREATE TABLE vehicle_events (
  tenant_id     text NOT NULL,
  vehicle_id    text NOT NULL,
  event_id      bigint NOT NULL CHECK (event_id > 0),
  type          text NOT NULL CHECK (type IN ('refuel', 'fuel_drain', 'fuel_leak', 'long_idle',
                                              'harsh_brake', 'harsh_accel', 'harsh_corner',
                                              'speeding', 'engine_anomaly', 'dtc')),
  start_ts      timestamptz NOT NULL,
  end_ts        timestamptz NOT NULL,
  volume_l      real CHECK (volume_l IS NULL OR volume_l >= 0),
  lat           double precision CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
  lon           double precision CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
  driver_id     text,
  confidence    real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  model_version text,
  details       jsonb NOT NULL DEFAULT '{}'::jsonb,
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, vehicle_id, event_id),
  CHECK (end_ts >= start_ts)
);
CREATE INDEX vehicle_events_tenant_start ON vehicle_events (tenant_id, start_ts DESC);
CREATE INDEX vehicle_events_vehicle_start ON vehicle_events (tenant_id, vehicle_id, start_ts);

-- A fuel purchase. vehicle_id is NULL when the card is not assigned to a vehicle (the
-- reconciliation then reports it unmatched rather than guessing). external_id is the provider's
-- transaction id: importing the same file or receiving the same webhook twice stores one row.
CREATE TABLE fuel_transactions (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  vehicle_id  text,
  source      text NOT NULL CHECK (source IN ('webhook', 'csv', 'manual')),
  external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 128),
  ts          timestamptz NOT NULL,
  litres      double precision NOT NULL CHECK (litres > 0 AND litres <= 10000),
  amount      numeric(12, 2) CHECK (amount IS NULL OR amount >= 0),
  currency    text CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
  fuel_type   text,
  station     text,
  lat         double precision CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
  lon         double precision CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
  card_id     text,
  driver_id   text,
  odometer_km double precision,
  raw         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, source, external_id)
);
CREATE INDEX fuel_transactions_vehicle_ts ON fuel_transactions (tenant_id, vehicle_id, ts);
CREATE INDEX fuel_transactions_tenant_ts ON fuel_transactions (tenant_id, ts DESC);

-- The latest reconciliation verdicts, recomputed by reconcile.ts for a tenant and period in one
-- transaction (delete the period's rows, insert the new ones), so a rerun never piles up rows.
--   matched:   a purchase and a refuel agree (no flags)
--   flagged:   something is wrong, each flag with its reason (same order in flags and reasons)
--   unmatched: nothing to compare with (card not assigned, no vehicle data around the purchase)
-- Flags: no_tank_rise, over_free_volume, volume_mismatch, far_from_station,
--        refuel_without_purchase, no_vehicle.
CREATE TABLE fuel_reconciliations (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        text NOT NULL,
  -- NULL for a refuel without a purchase.
  transaction_id   bigint REFERENCES fuel_transactions (id) ON DELETE CASCADE,
  vehicle_id       text,
  -- The matched refuel event, (tenant_id, event_vehicle_id, event_id) in vehicle_events.
  event_vehicle_id text,
  event_id         bigint,
  status           text NOT NULL CHECK (status IN ('matched', 'unmatched', 'flagged')),
  flags            text[] NOT NULL DEFAULT '{}',
  reasons          text[] NOT NULL DEFAULT '{}',
  -- When the reconciliation is about (the purchase's ts, or the refuel's start).
  ts               timestamptz NOT NULL,
  purchased_l      double precision,
  tank_rise_l      double precision,
  free_volume_l    double precision,
  time_offset_s    double precision,
  distance_m       double precision,
  reconciled_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (transaction_id IS NOT NULL OR event_id IS NOT NULL),
  CHECK (cardinality(flags) = cardinality(reasons))
);
CREATE UNIQUE INDEX fuel_reconciliations_transaction ON fuel_reconciliations (transaction_id)
  WHERE transaction_id IS NOT NULL;
CREATE INDEX fuel_reconciliations_tenant_ts ON fuel_reconciliations (tenant_id, ts DESC);
CREATE INDEX fuel_reconciliations_event ON fuel_reconciliations (tenant_id, event_vehicle_id, event_id);

-- Row-level security for fleet_app, as for every tenant table (000002): reads inside the tenant;
-- the API may record manual purchases, rerun the reconciliation and set a tank's capacity.
GRANT SELECT ON vehicle_events, fuel_transactions, fuel_reconciliations TO fleet_app;
GRANT INSERT ON fuel_transactions TO fleet_app;
GRANT INSERT, DELETE ON fuel_reconciliations TO fleet_app;
GRANT UPDATE (tank_litres) ON vehicles TO fleet_app;

ALTER TABLE vehicle_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE fuel_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE fuel_reconciliations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vehicle_events TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON fuel_transactions TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON fuel_reconciliations TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
