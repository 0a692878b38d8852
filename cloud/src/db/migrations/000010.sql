-- The web product's API (cloud/src/api/routers): the alerts inbox, geofences with entry/exit
-- alerts, the drivers' refuel log and saved searches.
--
--   vehicle_events --AFTER INSERT (row)-------------> alerts   (fuel_drain, fuel_leak, engine_anomaly,
--                                                              dtc, speeding, long_idle)
--   vehicle_latest --AFTER INSERT/UPDATE (statement)--> geofence_presence --transitions--> alerts
--                                                              (geofence_enter, geofence_exit)
--   driver PWA --refuels.log (client UUID)-----------> refuel_logs UNIQUE (tenant_id, client_id)
--
-- Alerts are made by triggers so that every path that stores events or positions (the MQTT
-- ingest, a CSV import, a test) creates them, in the same transaction as the data. Both trigger
-- functions are SECURITY DEFINER: the ingest writes as the owner, but the API may write positions
-- or events as fleet_app, which has no right to insert alerts itself.

-- 1. Alerts ---------------------------------------------------------------------------------------
CREATE TABLE alerts (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       text NOT NULL,
  vehicle_id      text,
  type            text NOT NULL CHECK (type IN ('fuel_drain', 'fuel_leak', 'engine_anomaly', 'dtc',
                                                'speeding', 'long_idle', 'geofence_enter',
                                                'geofence_exit')),
  severity        text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  title           text NOT NULL,
  -- When it happened (the event's start, the position's time), not when it was stored.
  ts              timestamptz NOT NULL,
  lat             double precision,
  lon             double precision,
  -- The source: a vehicle event (tenant_id, vehicle_id, event_id) or a geofence.
  event_id        bigint,
  geofence_id     bigint,
  details         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at     timestamptz,
  resolved_by     text,
  resolution_note text,
  -- One alert per event, whatever redelivers it (NULLs, i.e. geofence alerts, never collide).
  UNIQUE (tenant_id, vehicle_id, event_id)
);
CREATE INDEX alerts_tenant_ts ON alerts (tenant_id, ts DESC, id DESC);
CREATE INDEX alerts_tenant_status_ts ON alerts (tenant_id, status, ts DESC, id DESC);
CREATE INDEX alerts_created ON alerts (created_at);

CREATE FUNCTION alerts_from_vehicle_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF NEW.type NOT IN ('fuel_drain', 'fuel_leak', 'engine_anomaly', 'dtc', 'speeding', 'long_idle') THEN
    RETURN NULL;
  END IF;
  INSERT INTO alerts (tenant_id, vehicle_id, type, severity, title, ts, lat, lon, event_id, details)
  VALUES (
    NEW.tenant_id, NEW.vehicle_id, NEW.type,
    CASE NEW.type WHEN 'fuel_drain' THEN 'critical' WHEN 'long_idle' THEN 'info' ELSE 'warning' END,
    CASE NEW.type
      WHEN 'fuel_drain' THEN 'Fuel drain' || coalesce(': ' || round(NEW.volume_l::numeric, 1) || ' L lost', '')
      WHEN 'fuel_leak' THEN 'Slow fuel leak' || coalesce(': ' || round(NEW.volume_l::numeric, 1) || ' L lost', '')
      WHEN 'engine_anomaly' THEN 'Engine anomaly'
      WHEN 'dtc' THEN 'Trouble code' || coalesce(' ' || (NEW.details ->> 'code'), '')
      WHEN 'speeding' THEN 'Speeding' || coalesce(': ' || (NEW.details ->> 'maxSpeedKmh') || ' km/h', '')
      ELSE 'Long idle' || coalesce(': ' || round((NEW.details ->> 'durationS')::numeric / 60) || ' min', '')
    END,
    NEW.start_ts, NEW.lat, NEW.lon, NEW.event_id,
    NEW.details || jsonb_build_object('confidence', NEW.confidence, 'volumeL', NEW.volume_l,
                                      'endTs', NEW.end_ts, 'driverId', NEW.driver_id))
  ON CONFLICT (tenant_id, vehicle_id, event_id) DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER vehicle_events_alerts AFTER INSERT ON vehicle_events
  FOR EACH ROW EXECUTE FUNCTION alerts_from_vehicle_event();

-- 2. Geofences --------------------------------------------------------------------------------------
-- A polygon as two arrays (vertex i = (lats[i], lons[i]), closed implicitly) with its bounding box
-- for the cheap first test. Polygons across the antimeridian are not supported (the API refuses them).
CREATE TABLE geofences (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  lats           double precision[] NOT NULL,
  lons           double precision[] NOT NULL,
  min_lat        double precision NOT NULL,
  max_lat        double precision NOT NULL,
  min_lon        double precision NOT NULL,
  max_lon        double precision NOT NULL,
  alert_on_enter boolean NOT NULL DEFAULT true,
  alert_on_exit  boolean NOT NULL DEFAULT true,
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (cardinality(lats) = cardinality(lons) AND cardinality(lats) BETWEEN 3 AND 200)
);
CREATE INDEX geofences_tenant ON geofences (tenant_id);

-- Which vehicles are inside which geofence now; only a change of this makes an alert.
CREATE TABLE geofence_presence (
  tenant_id   text NOT NULL,
  geofence_id bigint NOT NULL REFERENCES geofences (id) ON DELETE CASCADE,
  vehicle_id  text NOT NULL,
  since       timestamptz NOT NULL,
  PRIMARY KEY (geofence_id, vehicle_id)
);
CREATE INDEX geofence_presence_vehicle ON geofence_presence (vehicle_id);

-- Even-odd ray casting; a point exactly on an edge may fall either way.
CREATE FUNCTION geofence_contains(lats double precision[], lons double precision[],
                                  lat double precision, lon double precision) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  n integer := cardinality(lats);
  j integer := n;
  inside boolean := false;
BEGIN
  FOR i IN 1..n LOOP
    IF (lats[i] > lat) <> (lats[j] > lat)
       AND lon < (lons[j] - lons[i]) * (lat - lats[i]) / (lats[j] - lats[i]) + lons[i] THEN
      inside := NOT inside;
    END IF;
    j := i;
  END LOOP;
  RETURN inside;
END
$$;

-- Once per statement (the ingest upserts many vehicles in one): a tenant without geofences costs
-- one index probe, not a call per row.
CREATE FUNCTION vehicle_latest_geofences() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM geofences) THEN
    RETURN NULL;
  END IF;
  WITH moved AS (
    SELECT m.vehicle_id, v.tenant_id, m.ts, m.lat, m.lon
      FROM moved_rows m JOIN vehicles v ON v.id = m.vehicle_id
     WHERE m.lat IS NOT NULL AND m.lon IS NOT NULL
       AND EXISTS (SELECT 1 FROM geofences g WHERE g.tenant_id = v.tenant_id)),
  inside AS (
    SELECT g.id AS geofence_id, mv.tenant_id, mv.vehicle_id
      FROM moved mv
      JOIN geofences g ON g.tenant_id = mv.tenant_id
                      AND mv.lat BETWEEN g.min_lat AND g.max_lat
                      AND mv.lon BETWEEN g.min_lon AND g.max_lon
     WHERE geofence_contains(g.lats, g.lons, mv.lat, mv.lon)),
  entered AS (
    INSERT INTO geofence_presence (tenant_id, geofence_id, vehicle_id, since)
    SELECT i.tenant_id, i.geofence_id, i.vehicle_id, mv.ts
      FROM inside i JOIN moved mv USING (vehicle_id)
    ON CONFLICT (geofence_id, vehicle_id) DO NOTHING
    RETURNING tenant_id, geofence_id, vehicle_id),
  exited AS (
    DELETE FROM geofence_presence p
     USING moved mv
     WHERE p.vehicle_id = mv.vehicle_id
       AND NOT EXISTS (SELECT 1 FROM inside i
                        WHERE i.geofence_id = p.geofence_id AND i.vehicle_id = p.vehicle_id)
    RETURNING p.tenant_id, p.geofence_id, p.vehicle_id),
  changes AS (
    SELECT e.*, 'geofence_enter' AS type FROM entered e
    UNION ALL
    SELECT x.*, 'geofence_exit' AS type FROM exited x)
  INSERT INTO alerts (tenant_id, vehicle_id, type, severity, title, ts, lat, lon, geofence_id, details)
  SELECT c.tenant_id, c.vehicle_id, c.type, 'info',
         CASE c.type WHEN 'geofence_enter' THEN 'Entered ' ELSE 'Left ' END || g.name,
         mv.ts, mv.lat, mv.lon, g.id, jsonb_build_object('geofence', g.name)
    FROM changes c
    JOIN geofences g ON g.id = c.geofence_id
    JOIN moved mv ON mv.vehicle_id = c.vehicle_id
   WHERE (c.type = 'geofence_enter' AND g.alert_on_enter) OR (c.type = 'geofence_exit' AND g.alert_on_exit);
  RETURN NULL;
END
$$;
-- Transition tables allow one event per trigger: the ingest's INSERT ... ON CONFLICT DO UPDATE
-- fires both, with the inserted and the updated rows respectively.
CREATE TRIGGER vehicle_latest_geofences_insert AFTER INSERT ON vehicle_latest
  REFERENCING NEW TABLE AS moved_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_latest_geofences();
CREATE TRIGGER vehicle_latest_geofences_update AFTER UPDATE ON vehicle_latest
  REFERENCING NEW TABLE AS moved_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_latest_geofences();

-- A SECURITY DEFINER function must not find objects through the caller's search_path.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION alerts_from_vehicle_event() SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION vehicle_latest_geofences() SET search_path = %I, pg_temp', current_schema());
END
$$;

-- 3. The drivers' refuel log ----------------------------------------------------------------------
-- client_id is generated by the PWA when the driver submits the form (before any network): a
-- retried or replayed submit carries the same id and finds the first row instead of adding one.
CREATE TABLE refuel_logs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  client_id   uuid NOT NULL,
  vehicle_id  text NOT NULL REFERENCES vehicles (id),
  user_id     text NOT NULL,
  ts          timestamptz NOT NULL,
  litres      double precision NOT NULL CHECK (litres > 0 AND litres <= 2000),
  amount      numeric(12, 2) CHECK (amount IS NULL OR amount >= 0),
  currency    text CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
  fuel_type   text NOT NULL,
  station     text CHECK (station IS NULL OR length(station) <= 200),
  odometer_km double precision CHECK (odometer_km IS NULL OR odometer_km >= 0),
  note        text CHECK (note IS NULL OR length(note) <= 500),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, client_id)
);
CREATE INDEX refuel_logs_tenant_ts ON refuel_logs (tenant_id, ts DESC, id DESC);
CREATE INDEX refuel_logs_user ON refuel_logs (tenant_id, user_id, ts DESC);

-- 4. Saved searches (per user) --------------------------------------------------------------------
CREATE TABLE saved_searches (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  user_id    text NOT NULL,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  query      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, user_id, name)
);

-- 5. Row-level security for fleet_app -----------------------------------------------------------
GRANT SELECT ON alerts, geofences, geofence_presence, refuel_logs, saved_searches TO fleet_app;
GRANT UPDATE (status, acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution_note)
  ON alerts TO fleet_app;
GRANT INSERT, DELETE ON geofences TO fleet_app;
-- A new geofence starts with the vehicles already inside it (no entry alert for standing still).
GRANT INSERT ON geofence_presence TO fleet_app;
GRANT INSERT ON refuel_logs TO fleet_app;
GRANT INSERT, DELETE ON saved_searches TO fleet_app;

ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE geofences ENABLE ROW LEVEL SECURITY;
ALTER TABLE geofence_presence ENABLE ROW LEVEL SECURITY;
ALTER TABLE refuel_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE saved_searches ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alerts TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON geofences TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON geofence_presence TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON refuel_logs TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON saved_searches TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
