-- The driver app's per-user preferences (issue 19 §4): units and language. Each user's own row;
-- no row means the defaults (litres, kilometres, the browser's language). Keyed by the session's
-- user id without a foreign key to users: API-token sessions and SSO users have ids too, and a
-- preference is harmless to keep for an id that has no users row.
CREATE TABLE user_preferences (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  user_id       text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  volume_unit   text NOT NULL DEFAULT 'l' CHECK (volume_unit IN ('l', 'gal')),
  distance_unit text NOT NULL DEFAULT 'km' CHECK (distance_unit IN ('km', 'mi')),
  -- null: follow the browser's language.
  locale        text CHECK (locale IN ('en', 'es')),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);

GRANT SELECT, INSERT, UPDATE ON user_preferences TO fleet_app;
ALTER TABLE user_preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_preferences TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
