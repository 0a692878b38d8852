-- Administration without SQL, part one: people, devices and what the agents say about themselves.
--
--   admin --users.invite--> user_invites (token hashed, 7 days, single use) --auth.acceptInvite--> users
--   admin --users.deactivate--> users.deactivated_at (sessions deleted, personal tokens revoked)
--   admin/manager/technician --devices.provision--> devices (the broker's PBKDF2 hash, never the password)
--                                                   --> the broker's password file (devices/broker-logins.ts)
--   agent status message (health, shared/src/telemetry.ts) --ingest--> vehicle_agent_health
--
-- Every table here holds one tenant's rows and is read by the API as fleet_app, so each one has
-- row-level security with the same policy as the tables before it.

-- 1. People --------------------------------------------------------------------------------------

-- A deactivated user cannot sign in, and their sessions and personal tokens stop at once (the
-- API deletes and revokes them in the same transaction; the session lookup also checks this).
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
GRANT SELECT (deactivated_at) ON users TO fleet_app;
GRANT UPDATE (role, vehicle_id, deactivated_at) ON users TO fleet_app;
-- The existing policy has no WITH CHECK: without one, an UPDATE could move a row to another
-- tenant. The API never writes tenant_id, but the database should not rely on that.
DROP POLICY tenant_isolation ON users;
CREATE POLICY tenant_isolation ON users TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- An invitation: the link carries a random token given to the admin once; only its SHA-256 is
-- kept. Accepting it creates the user (as the owner: the invitee is not signed in yet), so a
-- user row never exists without a password. One open invitation per e-mail and tenant.
CREATE TABLE user_invites (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  email       text NOT NULL CHECK (email = lower(email)),
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('admin', 'fleet_manager', 'finance', 'compliance', 'technician', 'driver')),
  vehicle_id  text REFERENCES vehicles (id),
  token_hash  bytea NOT NULL UNIQUE,
  invited_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at  timestamptz,
  user_id     text REFERENCES users (id)
);
CREATE UNIQUE INDEX user_invites_open ON user_invites (tenant_id, email)
  WHERE accepted_at IS NULL AND revoked_at IS NULL;
GRANT SELECT (id, tenant_id, email, name, role, vehicle_id, invited_by, created_at, expires_at,
              accepted_at, revoked_at, user_id) ON user_invites TO fleet_app;
GRANT INSERT ON user_invites TO fleet_app;
GRANT UPDATE (revoked_at) ON user_invites TO fleet_app;
ALTER TABLE user_invites ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_invites TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Personal API tokens act as the person who made them (never beyond their current role) and end
-- with their account; NULL owner: an integration's token, as before.
ALTER TABLE api_tokens ADD COLUMN owner_user_id text REFERENCES users (id);
GRANT SELECT (owner_user_id) ON api_tokens TO fleet_app;
CREATE INDEX api_tokens_owner ON api_tokens (owner_user_id) WHERE owner_user_id IS NOT NULL;

-- 2. Devices -------------------------------------------------------------------------------------

-- One device (the agent's MQTT login) per vehicle. password_hash is the broker's own PBKDF2-SHA512
-- form (`$7$...`, Mosquitto 2), so the password file can be rebuilt from here, and nothing here
-- signs anyone in. The username is the vehicle id: the broker ACL's %u patterns depend on it.
CREATE TABLE devices (
  vehicle_id     text PRIMARY KEY REFERENCES vehicles (id),
  tenant_id      text NOT NULL REFERENCES tenants (id),
  mqtt_username  text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  status         text NOT NULL CHECK (status IN ('active', 'revoked')),
  provisioned_at timestamptz NOT NULL DEFAULT now(),
  provisioned_by text NOT NULL,
  rotated_at     timestamptz,
  revoked_at     timestamptz,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX devices_tenant ON devices (tenant_id);
GRANT SELECT, INSERT, UPDATE ON devices TO fleet_app;
ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON devices TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- 3. Agent health --------------------------------------------------------------------------------

-- The newest health figures each agent put in its status message (AgentHealth v1). Only a newer
-- report replaces a row: status messages are retained and may come again, or out of order.
CREATE TABLE vehicle_agent_health (
  vehicle_id          text PRIMARY KEY,
  tenant_id           text NOT NULL,
  agent_version       text NOT NULL,
  clock_source        text NOT NULL,
  disk_used_bytes     bigint NOT NULL,
  disk_budget_bytes   bigint NOT NULL,
  evicted_raw_synced   bigint NOT NULL,
  evicted_raw_unsynced bigint NOT NULL,
  evicted_rollups      bigint NOT NULL,
  evicted_events       bigint NOT NULL,
  unsent_samples      bigint NOT NULL,
  sync_lag_ms         bigint,
  model_version       text,
  reported_at         timestamptz NOT NULL,
  received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_agent_health_tenant ON vehicle_agent_health (tenant_id);
GRANT SELECT ON vehicle_agent_health TO fleet_app;
ALTER TABLE vehicle_agent_health ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vehicle_agent_health TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
