-- Cost against budget and the report builder (issue 17 §5-§6).
--
--   fuel_budgets  (tenant, scope, scope_key, month) -> amount, currency    what finance plans
--        scope: fleet (scope_key ''), group (its id), cost_centre (its name), vehicle (its id);
--        a vehicle without a row for a month falls back to vehicles.monthly_fuel_budget (000013)
--   saved_reports (tenant, name) -> kind, period, filters, columns, units  what /reports reopens
--
-- Both are the tenant's (shared by its finance and fleet people), under row-level security.
CREATE TABLE fuel_budgets (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  scope      text NOT NULL CHECK (scope IN ('fleet', 'group', 'cost_centre', 'vehicle')),
  scope_key  text NOT NULL CHECK (length(scope_key) <= 100 AND (scope = 'fleet') = (scope_key = '')),
  -- The first day of the month (budgets are per calendar month, UTC).
  month      date NOT NULL CHECK (extract(day FROM month) = 1),
  amount     numeric(12, 2) NOT NULL CHECK (amount >= 0),
  currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scope, scope_key, month)
);

CREATE TABLE saved_reports (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind       text NOT NULL CHECK (kind IN ('ifta', 'carbon', 'cost', 'consumption', 'idling', 'drivers')),
  -- {"preset": "last-30-days"} or {"from": ms, "to": ms} or {"quarter": "2026Q3"} (validated by the API).
  period     jsonb NOT NULL CHECK (jsonb_typeof(period) = 'object'),
  -- {"groupIds": [..], "vehicleIds": [..], "driverIds": [..]}
  filters    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(filters) = 'object'),
  -- The columns shown and exported, in order; empty: all of the report's.
  columns    text[] NOT NULL DEFAULT '{}',
  units      text NOT NULL DEFAULT 'metric' CHECK (units IN ('metric', 'us')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON fuel_budgets, saved_reports TO fleet_app;
ALTER TABLE fuel_budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE saved_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON fuel_budgets TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON saved_reports TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
