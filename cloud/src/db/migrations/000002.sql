-- Time-partitioned telemetry, a global dedupe key, per-minute rollups, row-level security.
-- Runs on PostgreSQL 15+ and PGlite; uses TimescaleDB only where the extension is available.
--
--   telemetry_seq (vehicle_id, seq) PK     <- the idempotency key, one narrow row per sample:
--        |                                    "this seq was stored", whatever its ts says
--        +--> telemetry PARTITION BY RANGE (ts), one partition per UTC day, PK (vehicle_id, ts, seq)
--        +--> telemetry_minute (vehicle_id, minute) PK, upserted from the rows really inserted
--
-- Why a separate key table: a unique constraint on a partitioned table must contain the
-- partition key, so (vehicle_id, seq) cannot be unique on telemetry itself. Same-ts redeliveries
-- would still collide on (vehicle_id, ts, seq), but a payload that reuses a seq with another ts
-- (a reflashed agent, a forged batch) would be stored twice. The key table makes the rule global
-- at the price of one index entry per sample, the same count as before: the old PK on
-- (vehicle_id, seq) plus telemetry_vehicle_ts become telemetry_seq's PK plus the partition PK,
-- whose (vehicle_id, ts, seq) order serves the per-vehicle time-range queries.

-- 1. Partitioned telemetry ---------------------------------------------------------------------

ALTER TABLE telemetry RENAME TO telemetry_v1;
ALTER INDEX telemetry_vehicle_ts RENAME TO telemetry_v1_vehicle_ts;
ALTER TABLE telemetry_v1 RENAME CONSTRAINT telemetry_pkey TO telemetry_v1_pkey;

CREATE TABLE telemetry_seq (
  vehicle_id text NOT NULL,
  seq        bigint NOT NULL,
  -- Kept so retention can prune keys together with the partitions they point to.
  ts         timestamptz NOT NULL,
  PRIMARY KEY (vehicle_id, seq)
);

-- No foreign key to vehicles: the ingest registers the vehicle in the same transaction, and an
-- RI check per sample would cost about a fifth of the insert rate.
CREATE TABLE telemetry (
  tenant_id      text NOT NULL,
  vehicle_id     text NOT NULL,
  seq            bigint NOT NULL,
  ts             timestamptz NOT NULL,
  lat            double precision,
  lon            double precision,
  speed_kmh      real,
  rpm            real,
  fuel_level_pct real,
  coolant_c      real,
  received_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vehicle_id, ts, seq)
) PARTITION BY RANGE (ts);

-- Creates the daily partitions `telemetry_pYYYYMMDD` covering `days` (UTC), if missing. Called
-- by the ingest before it writes a day it has not seen, and ahead of time (today + 2 days) by
-- its maintenance timer. There is no DEFAULT partition on purpose: a row for a missing day would
-- land there and then block creating that day's partition.
CREATE FUNCTION telemetry_ensure_partitions(days date[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  d date;
  created integer := 0;
  name text;
BEGIN
  -- Not partitioned (a TimescaleDB hypertable): chunks are created by TimescaleDB.
  IF NOT EXISTS (SELECT 1 FROM pg_class c
                  WHERE c.oid = to_regclass('telemetry') AND c.relkind = 'p') THEN
    RETURN 0;
  END IF;
  -- Two ingest processes meeting a new day at once: one creates, the other then sees it.
  PERFORM pg_advisory_xact_lock(727274002);
  FOREACH d IN ARRAY days LOOP
    name := 'telemetry_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF telemetry FOR VALUES FROM (%L) TO (%L)',
        name,
        (d::timestamp AT TIME ZONE 'UTC'),
        ((d + 1)::timestamp AT TIME ZONE 'UTC'));
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$$;

SELECT telemetry_ensure_partitions(ARRAY(
  SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM telemetry_v1
  UNION
  SELECT generate_series((now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 2, '1 day')::date));

INSERT INTO telemetry_seq (vehicle_id, seq, ts) SELECT vehicle_id, seq, ts FROM telemetry_v1;
INSERT INTO telemetry (tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct,
                       coolant_c, received_at)
SELECT v.tenant_id, t.vehicle_id, t.seq, t.ts, t.lat, t.lon, t.speed_kmh, t.rpm, t.fuel_level_pct,
       t.coolant_c, t.received_at
  FROM telemetry_v1 t JOIN vehicles v ON v.id = t.vehicle_id;
DROP TABLE telemetry_v1;

-- 2. TimescaleDB, only where installed (not on the project's machines, nor in PGlite) --------
-- A hypertable cannot sit on a natively partitioned table: where the extension exists the
-- (still empty of new data) partitioned table is replaced by a hypertable with compression.
-- Untested here: no machine of this project has the extension.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    CREATE TABLE telemetry_ts (LIKE telemetry INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
    ALTER TABLE telemetry_ts ADD PRIMARY KEY (vehicle_id, ts, seq);
    INSERT INTO telemetry_ts SELECT * FROM telemetry;
    DROP TABLE telemetry;
    ALTER TABLE telemetry_ts RENAME TO telemetry;
    EXECUTE 'SELECT create_hypertable(''telemetry'', ''ts'', chunk_time_interval => interval ''1 day'', migrate_data => true)';
    EXECUTE 'ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = ''vehicle_id'', timescaledb.compress_orderby = ''ts, seq'')';
    EXECUTE 'SELECT add_compression_policy(''telemetry'', interval ''7 days'')';
  END IF;
END
$$;

-- 3. Per-minute rollups ------------------------------------------------------------------------
-- Upserted by the ingest in the same statement as the raw rows, from the rows it really
-- inserted: a redelivery adds nothing. Averages are sums over non-null counts.
CREATE TABLE telemetry_minute (
  tenant_id     text NOT NULL,
  vehicle_id    text NOT NULL,
  minute        timestamptz NOT NULL,
  samples       integer NOT NULL,
  speed_n       integer NOT NULL,
  speed_min     real,
  speed_max     real,
  speed_sum     double precision NOT NULL DEFAULT 0,
  speed_avg     double precision GENERATED ALWAYS AS (speed_sum / NULLIF(speed_n, 0)) STORED,
  rpm_n         integer NOT NULL,
  rpm_min       real,
  rpm_max       real,
  rpm_sum       double precision NOT NULL DEFAULT 0,
  rpm_avg       double precision GENERATED ALWAYS AS (rpm_sum / NULLIF(rpm_n, 0)) STORED,
  fuel_min      real,
  fuel_max      real,
  coolant_max   real,
  PRIMARY KEY (vehicle_id, minute)
);

INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_min, speed_max,
                              speed_sum, rpm_n, rpm_min, rpm_max, rpm_sum, fuel_min, fuel_max, coolant_max)
SELECT tenant_id, vehicle_id, date_trunc('minute', ts), count(*), count(speed_kmh), min(speed_kmh),
       max(speed_kmh), coalesce(sum(speed_kmh), 0), count(rpm), min(rpm), max(rpm), coalesce(sum(rpm), 0),
       min(fuel_level_pct), max(fuel_level_pct), max(coolant_c)
  FROM telemetry GROUP BY 1, 2, 3;

-- 4. Row-level security --------------------------------------------------------------------------
-- The ingest and migrations run as the owner, which RLS does not restrict (no FORCE). The API
-- will run its queries as `fleet_app` inside a transaction with `SET LOCAL ROLE fleet_app;
-- SET LOCAL app.tenant_id = '<tenant from the session>'` (security issue); without the setting,
-- current_setting(..., true) is NULL and every policy below yields no rows.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fleet_app') THEN
    CREATE ROLE fleet_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  -- Roles are cluster-wide: a concurrent migration of another schema created it first.
  NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO fleet_app', current_schema());
END
$$;
GRANT SELECT ON tenants, vehicles, telemetry, telemetry_minute, vehicle_latest TO fleet_app;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_minute ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicle_latest ENABLE ROW LEVEL SECURITY;
-- Operator-only tables: RLS on and no policy, so fleet_app sees nothing even if granted.
ALTER TABLE telemetry_seq ENABLE ROW LEVEL SECURITY;
ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenants TO fleet_app
  USING (id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON vehicles TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON telemetry TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON telemetry_minute TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON vehicle_latest TO fleet_app
  USING (EXISTS (SELECT 1 FROM vehicles v
                  WHERE v.id = vehicle_latest.vehicle_id
                    AND v.tenant_id = current_setting('app.tenant_id', true)));
