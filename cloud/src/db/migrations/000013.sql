-- Running the fleet without SQL (issue 15): the vehicle register, groups, and who drives what when.
--
--   vehicle_groups (depots, classes) <-- vehicles.group_id          the register: plate, VIN, tank
--        ^                                                          and its calibration, budget...
--        +-- driver_groups (user, group): a driver may check in to the vehicles of their groups
--   vehicle_assignments [starts_at, ends_at) per (vehicle, driver)  the history; ends_at NULL = current
--        --> assigned_driver(vehicle, ts): the one driver of a vehicle at a moment, used by every
--            read that attributes events, refuels and scores to a person
--
-- users.vehicle_id (000006, a static binding) is no longer read: each driver's vehicle is their
-- current assignment. The column stays because the users administration (another change of the
-- same issue) and older tools still list it; its CHECK goes, so a driver may exist without a
-- vehicle (imported, between shifts).

-- 1. Groups --------------------------------------------------------------------------------------
CREATE TABLE vehicle_groups (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- A depot (where vehicles sleep) or a vehicle class (what they are); both scope rules and reports.
  kind       text NOT NULL DEFAULT 'depot' CHECK (kind IN ('depot', 'class', 'other')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

-- 2. The vehicle register -------------------------------------------------------------------------
ALTER TABLE vehicles
  ADD COLUMN plate               text CHECK (plate IS NULL OR length(plate) BETWEEN 1 AND 20),
  -- ISO 3779: 17 characters, no I, O or Q. The check digit is not checked: it is a North-American
  -- rule, and European VINs do not carry one.
  ADD COLUMN vin                 text CHECK (vin IS NULL OR vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
  ADD COLUMN make                text CHECK (make IS NULL OR length(make) <= 60),
  ADD COLUMN model               text CHECK (model IS NULL OR length(model) <= 60),
  ADD COLUMN model_year          smallint CHECK (model_year IS NULL OR model_year BETWEEN 1900 AND 2100),
  ADD COLUMN fuel_type           text CHECK (fuel_type IS NULL OR fuel_type IN ('diesel', 'petrol', 'lpg', 'cng', 'electric', 'hybrid')),
  ADD COLUMN vehicle_class       text CHECK (vehicle_class IS NULL OR length(vehicle_class) <= 60),
  -- [{pct, litres}, ...] from 0 % to 100 %, strictly rising in both (validated by the API with
  -- shared/src/tank-calibration.ts, which also reads it); NULL: linear over tank_litres.
  ADD COLUMN tank_calibration    jsonb CHECK (tank_calibration IS NULL OR jsonb_typeof(tank_calibration) = 'array'),
  -- Added to the distance the vehicle reports, so the register shows the dashboard's odometer.
  ADD COLUMN odometer_offset_km  double precision NOT NULL DEFAULT 0 CHECK (abs(odometer_offset_km) <= 10000000),
  ADD COLUMN group_id            bigint REFERENCES vehicle_groups (id) ON DELETE SET NULL,
  ADD COLUMN cost_centre         text CHECK (cost_centre IS NULL OR length(cost_centre) <= 60),
  ADD COLUMN monthly_fuel_budget numeric(12, 2) CHECK (monthly_fuel_budget IS NULL OR monthly_fuel_budget >= 0),
  -- Retired vehicles keep their history and stop counting as the fleet (soft delete).
  ADD COLUMN retired_at          timestamptz;
-- A plate or VIN names one vehicle in service; a retired vehicle's plate may be given again.
CREATE UNIQUE INDEX vehicles_tenant_plate ON vehicles (tenant_id, plate) WHERE plate IS NOT NULL AND retired_at IS NULL;
CREATE UNIQUE INDEX vehicles_tenant_vin ON vehicles (tenant_id, vin) WHERE vin IS NOT NULL AND retired_at IS NULL;
CREATE INDEX vehicles_group ON vehicles (group_id) WHERE group_id IS NOT NULL;

-- 3. Who may drive what --------------------------------------------------------------------------
CREATE TABLE driver_groups (
  tenant_id text NOT NULL REFERENCES tenants (id),
  user_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  group_id  bigint NOT NULL REFERENCES vehicle_groups (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, group_id)
);
CREATE INDEX driver_groups_group ON driver_groups (group_id);

ALTER TABLE users DROP CONSTRAINT IF EXISTS users_check;

-- 4. Assignments -----------------------------------------------------------------------------------
CREATE TABLE vehicle_assignments (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  vehicle_id text NOT NULL REFERENCES vehicles (id),
  user_id    text NOT NULL REFERENCES users (id),
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz,
  -- How it began: an administrator, the driver's check-in, a CSV import, or this migration.
  source     text NOT NULL CHECK (source IN ('admin', 'check-in', 'import', 'migration')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX vehicle_assignments_vehicle ON vehicle_assignments (vehicle_id, starts_at);
CREATE INDEX vehicle_assignments_user ON vehicle_assignments (user_id, starts_at);
-- At most one current (open) assignment per vehicle and per driver: plain unique indexes, so the
-- database refuses a second one whatever the application does.
CREATE UNIQUE INDEX vehicle_assignments_current_vehicle ON vehicle_assignments (vehicle_id) WHERE ends_at IS NULL;
CREATE UNIQUE INDEX vehicle_assignments_current_user ON vehicle_assignments (user_id) WHERE ends_at IS NULL;

-- No two periods of one vehicle (or of one driver) overlap, closed ones included. The natural
-- form is EXCLUDE USING gist (vehicle_id WITH =, tstzrange(starts_at, ends_at) WITH &&), but text
-- equality in a GiST index needs the btree_gist extension, and an extension lives in one schema
-- of a database while this project migrates into any schema (DATABASE_SCHEMA; a schema per test)
-- and PGlite would have to load it at every start. So: the unique indexes above for "current",
-- and this trigger for the periods, serialised per vehicle and per driver by transaction-scoped
-- advisory locks so two concurrent inserts cannot both pass the check. It raises
-- exclusion_violation (23P01), the error the constraint would have raised.
CREATE FUNCTION vehicle_assignments_no_overlap() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  clash record;
BEGIN
  PERFORM pg_advisory_xact_lock(727274013, hashtext('vehicle:' || NEW.vehicle_id));
  PERFORM pg_advisory_xact_lock(727274013, hashtext('user:' || NEW.user_id));
  SELECT a.id, a.vehicle_id, a.user_id INTO clash
    FROM vehicle_assignments a
   WHERE a.id <> NEW.id
     AND (a.vehicle_id = NEW.vehicle_id OR a.user_id = NEW.user_id)
     AND tstzrange(a.starts_at, a.ends_at) && tstzrange(NEW.starts_at, NEW.ends_at)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'assignment overlaps assignment % (vehicle %, driver %)', clash.id, clash.vehicle_id, clash.user_id
      USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'vehicle_assignments_no_overlap';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER vehicle_assignments_no_overlap BEFORE INSERT OR UPDATE ON vehicle_assignments
  FOR EACH ROW EXECUTE FUNCTION vehicle_assignments_no_overlap();

-- The driver assigned to a vehicle at a moment (NULL: nobody). Every attribution goes through
-- it, so an event, a refuel and a score of the same moment name the same person; it reads the
-- history, which reassigning only appends to, so the past never changes hands.
CREATE FUNCTION assigned_driver(p_vehicle_id text, p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT a.user_id FROM vehicle_assignments a
   WHERE a.vehicle_id = p_vehicle_id AND a.starts_at <= p_at AND (a.ends_at IS NULL OR a.ends_at > p_at)
   LIMIT 1
$$;

-- Today's static bindings become open assignments since forever, so history keeps the driver it
-- was credited to; a vehicle bound to several drivers (the shared vehicle this replaces) keeps
-- the first-created one, the others check in.
INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
SELECT DISTINCT ON (u.vehicle_id) u.tenant_id, u.vehicle_id, u.id, '-infinity', 'migration', 'system'
  FROM users u
 WHERE u.role = 'driver' AND u.vehicle_id IS NOT NULL
 ORDER BY u.vehicle_id, u.created_at, u.id;

-- 5. Row-level security for fleet_app, as for every tenant table ----------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON vehicle_groups, driver_groups TO fleet_app;
GRANT SELECT, INSERT ON vehicle_assignments TO fleet_app;
-- Closing a period is the only change to history.
GRANT UPDATE (ends_at) ON vehicle_assignments TO fleet_app;
GRANT INSERT (id, tenant_id, plate, vin, make, model, model_year, fuel_type, vehicle_class, tank_litres,
              tank_calibration, odometer_offset_km, group_id, cost_centre, monthly_fuel_budget)
  ON vehicles TO fleet_app;
GRANT UPDATE (plate, vin, make, model, model_year, fuel_type, vehicle_class, tank_litres, tank_calibration,
              odometer_offset_km, group_id, cost_centre, monthly_fuel_budget, retired_at)
  ON vehicles TO fleet_app;
-- Drivers created by the CSV import (they sign in after a password reset or an invitation).
GRANT INSERT (id, tenant_id, email, name, role, password_hash) ON users TO fleet_app;

ALTER TABLE vehicle_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE driver_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicle_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vehicle_groups TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON driver_groups TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON vehicle_assignments TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
