-- Foundation schema: tenants, vehicles, raw telemetry, latest state, dead letters.
-- Later migrations add partitioning, rollups and row-level security.

CREATE TABLE tenants (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vehicles (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  -- From the retained status topic / MQTT will; null until the vehicle has said anything.
  online     boolean,
  status_at  timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicles_tenant ON vehicles (tenant_id);

-- (vehicle_id, seq) is the idempotency key: a batch redelivered after a crash inserts nothing.
CREATE TABLE telemetry (
  vehicle_id     text NOT NULL REFERENCES vehicles (id),
  seq            bigint NOT NULL,
  ts             timestamptz NOT NULL,
  lat            double precision,
  lon            double precision,
  speed_kmh      real,
  rpm            real,
  fuel_level_pct real,
  coolant_c      real,
  received_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vehicle_id, seq)
);
CREATE INDEX telemetry_vehicle_ts ON telemetry (vehicle_id, ts);

-- Only a newer ts replaces a row here (Traccar and ThingsBoard both shipped "late data moves
-- the latest position backwards").
CREATE TABLE vehicle_latest (
  vehicle_id     text PRIMARY KEY REFERENCES vehicles (id),
  ts             timestamptz NOT NULL,
  lat            double precision,
  lon            double precision,
  speed_kmh      real,
  rpm            real,
  fuel_level_pct real,
  coolant_c      real,
  received_at    timestamptz NOT NULL
);

-- Payloads the ingest refused, with the reason; kept for inspection, never retried automatically.
CREATE TABLE dead_letters (
  id          bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  topic       text NOT NULL,
  reason      text NOT NULL,
  payload     bytea NOT NULL
);
