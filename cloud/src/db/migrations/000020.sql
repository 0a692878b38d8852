-- Reports finance and compliance file (issue 17 §2-§4): distance you can file, the IFTA return,
-- carbon. What an auditor may ask for is kept 4 years (IFTA's record-keeping rule) in tables of
-- its own, so the telemetry's retention can drop raw rows without taking the records with it.

-- 1. The odometer (PID A6, km) and the agent's jitter-filtered GPS odometer (metres since its
--    store was created) on each sample; null from agents and vehicles that have neither.
ALTER TABLE telemetry
  ADD COLUMN odometer_km    double precision CHECK (odometer_km IS NULL OR odometer_km BETWEEN 0 AND 429496729.5),
  ADD COLUMN gps_distance_m double precision CHECK (gps_distance_m IS NULL OR gps_distance_m >= 0);

-- 2. Reference data of the whole installation (no tenant): jurisdiction boundaries an operator
--    imported (none: the default set shipped with the code) and the quarterly tax rates.
CREATE TABLE ifta_boundaries (
  id          smallint PRIMARY KEY CHECK (id = 1),
  source      text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
  geojson     jsonb NOT NULL,
  imported_by text,
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ifta_tax_rates (
  quarter      text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
  jurisdiction text NOT NULL CHECK (jurisdiction ~ '^[A-Z]{2}$'),
  fuel_type    text NOT NULL CHECK (fuel_type ~ '^[a-z0-9]{2,12}$'),
  -- US$ per gallon; NULL: no rate for this fuel (Oregon diesel: weight-mile tax instead).
  rate         numeric(9, 5) CHECK (rate IS NULL OR rate >= 0),
  surcharge    numeric(9, 5) NOT NULL DEFAULT 0 CHECK (surcharge >= 0),
  source       text,
  imported_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (quarter, jurisdiction, fuel_type)
);
GRANT SELECT ON ifta_boundaries, ifta_tax_rates TO fleet_app;

-- 3. Per vehicle and UTC day: the odometer at the start and end, the filtered GPS metres and
--    their split by jurisdiction ({"CO": 1234.5, "WY": ..., "": outside every one}).
CREATE TABLE vehicle_day_distance (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  vehicle_id      text NOT NULL,
  day             date NOT NULL,
  odometer_start_km double precision,
  odometer_end_km   double precision,
  gps_m           double precision NOT NULL DEFAULT 0 CHECK (gps_m >= 0),
  by_jurisdiction jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(by_jurisdiction) = 'object'),
  computed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, vehicle_id, day)
);
CREATE INDEX vehicle_day_distance_day ON vehicle_day_distance (tenant_id, day);

-- 4. The trip detail records (at most 10 minutes apart, every border crossing) and the gaps.
CREATE TABLE ifta_trip_records (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  vehicle_id   text NOT NULL,
  ts           timestamptz NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('step', 'crossing', 'first', 'last')),
  lat          double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon          double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
  odometer_km  double precision,
  jurisdiction text,
  PRIMARY KEY (tenant_id, vehicle_id, ts, kind)
);
CREATE TABLE ifta_distance_gaps (
  tenant_id         text NOT NULL REFERENCES tenants (id),
  vehicle_id        text NOT NULL,
  from_ts           timestamptz NOT NULL,
  to_ts             timestamptz NOT NULL CHECK (to_ts > from_ts),
  from_jurisdiction text,
  to_jurisdiction   text,
  metres            double precision NOT NULL,
  PRIMARY KEY (tenant_id, vehicle_id, from_ts)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON vehicle_day_distance, ifta_trip_records, ifta_distance_gaps TO fleet_app;
ALTER TABLE vehicle_day_distance ENABLE ROW LEVEL SECURITY;
ALTER TABLE ifta_trip_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE ifta_distance_gaps ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vehicle_day_distance TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON ifta_trip_records TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON ifta_distance_gaps TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
