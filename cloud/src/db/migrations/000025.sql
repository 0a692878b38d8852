-- Maintenance (issue 18 §1): service programs, the last service per vehicle, work orders with
-- their parts and labour, drivers' defect reports.
--
--   service_programs (interval km | engine h | months/days, whichever first; due-soon margins)
--     applied to a group or to vehicles (service_program_targets)
--       ──> vehicle_services: the last service per (vehicle, program) ──> cloud/src/maintenance/due.ts
--           (usage since then from telemetry_minute: speed-integrated km, minutes with the engine on)
--   work_orders (source: service | defect | dtc | anomaly | manual) + work_order_lines (decimal cost)
--       done ──> resets vehicle_services of its program
--   defect_reports (PWA, idempotency key from the phone) ──> a work order when a defect is marked

CREATE TABLE service_programs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  template        text,
  interval_km     numeric(10, 1) CHECK (interval_km IS NULL OR interval_km > 0),
  interval_hours  numeric(8, 1) CHECK (interval_hours IS NULL OR interval_hours > 0),
  interval_months integer CHECK (interval_months IS NULL OR interval_months BETWEEN 1 AND 120),
  interval_days   integer CHECK (interval_days IS NULL OR interval_days BETWEEN 1 AND 3650),
  soon_km         numeric(10, 1) NOT NULL DEFAULT 0 CHECK (soon_km >= 0),
  soon_hours      numeric(8, 1) NOT NULL DEFAULT 0 CHECK (soon_hours >= 0),
  soon_days       integer NOT NULL DEFAULT 0 CHECK (soon_days BETWEEN 0 AND 365),
  -- Vehicles never serviced under this program count from here.
  starts_at       timestamptz NOT NULL DEFAULT now(),
  created_by      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  archived_at     timestamptz,
  UNIQUE (tenant_id, name),
  CHECK (interval_km IS NOT NULL OR interval_hours IS NOT NULL OR interval_months IS NOT NULL
         OR interval_days IS NOT NULL)
);

-- A program applies to every vehicle of a group (now and later) or to named vehicles.
CREATE TABLE service_program_targets (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  program_id bigint NOT NULL REFERENCES service_programs (id) ON DELETE CASCADE,
  group_id   bigint REFERENCES vehicle_groups (id) ON DELETE CASCADE,
  vehicle_id text,
  CHECK ((group_id IS NULL) <> (vehicle_id IS NULL))
);
CREATE UNIQUE INDEX service_program_targets_one ON service_program_targets
  (program_id, coalesce(group_id, 0), coalesce(vehicle_id, ''));
CREATE INDEX service_program_targets_tenant ON service_program_targets (tenant_id);

CREATE TABLE work_orders (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  vehicle_id     text NOT NULL,
  title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  source_kind    text NOT NULL CHECK (source_kind IN ('dtc', 'anomaly', 'service', 'defect', 'manual')),
  source_ref     text CHECK (source_ref IS NULL OR length(source_ref) <= 200),
  program_id     bigint REFERENCES service_programs (id),
  status         text NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'in_progress', 'waiting_parts', 'done', 'cancelled')),
  assignee_id    text,
  currency       text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
  notes          text CHECK (notes IS NULL OR length(notes) <= 4000),
  opened_by      text NOT NULL,
  opened_at      timestamptz NOT NULL DEFAULT now(),
  -- At completion: the meter readings the service is reset to (null: the system's own figures).
  done_at        timestamptz,
  done_odometer_km numeric(10, 1) CHECK (done_odometer_km IS NULL OR done_odometer_km >= 0),
  done_engine_hours numeric(9, 1) CHECK (done_engine_hours IS NULL OR done_engine_hours >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX work_orders_vehicle ON work_orders (tenant_id, vehicle_id, opened_at DESC);
CREATE INDEX work_orders_status ON work_orders (tenant_id, status, opened_at DESC);
-- One live work order per source (a due service, a DTC, a defect report): opening it again
-- returns the one there is.
CREATE UNIQUE INDEX work_orders_one_per_source ON work_orders (tenant_id, vehicle_id, source_kind, source_ref)
  WHERE source_ref IS NOT NULL AND status NOT IN ('done', 'cancelled');

CREATE TABLE work_order_lines (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  work_order_id bigint NOT NULL REFERENCES work_orders (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('part', 'labour')),
  description   text NOT NULL CHECK (length(description) BETWEEN 1 AND 200),
  quantity      numeric(10, 2) NOT NULL CHECK (quantity > 0),
  unit_cost     numeric(12, 2) NOT NULL CHECK (unit_cost >= 0),
  amount        numeric(14, 2) GENERATED ALWAYS AS (round(quantity * unit_cost, 2)) STORED,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_order_lines_order ON work_order_lines (work_order_id);
CREATE INDEX work_order_lines_tenant ON work_order_lines (tenant_id);

-- The last service per vehicle and program (absent: counted from the program's start).
CREATE TABLE vehicle_services (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  vehicle_id    text NOT NULL,
  program_id    bigint NOT NULL REFERENCES service_programs (id) ON DELETE CASCADE,
  done_at       timestamptz NOT NULL,
  odometer_km   numeric(10, 1),
  engine_hours  numeric(9, 1),
  work_order_id bigint REFERENCES work_orders (id),
  PRIMARY KEY (tenant_id, vehicle_id, program_id)
);

-- A driver's pre-trip inspection (DVIR style). client_id is made on the phone before any network:
-- the outbox sends it until the cloud says yes, and a resend stores nothing new.
CREATE TABLE defect_reports (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  client_id     uuid NOT NULL,
  vehicle_id    text NOT NULL,
  user_id       text NOT NULL,
  ts            timestamptz NOT NULL,
  items         jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array'),
  defects       integer NOT NULL CHECK (defects >= 0),
  odometer_km   numeric(10, 1),
  note          text CHECK (note IS NULL OR length(note) <= 1000),
  work_order_id bigint REFERENCES work_orders (id),
  received_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, client_id)
);
CREATE INDEX defect_reports_vehicle ON defect_reports (tenant_id, vehicle_id, ts DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON service_programs, service_program_targets, work_orders,
  work_order_lines, vehicle_services, defect_reports TO fleet_app;
ALTER TABLE service_programs ENABLE ROW LEVEL SECURITY;
ALTER TABLE service_program_targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE work_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE work_order_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicle_services ENABLE ROW LEVEL SECURITY;
ALTER TABLE defect_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON service_programs TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON service_program_targets TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON work_orders TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON work_order_lines TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON vehicle_services TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON defect_reports TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
