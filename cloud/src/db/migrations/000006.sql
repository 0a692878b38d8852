-- People and their sessions. A user belongs to one tenant and has one role; a driver is bound to
-- the vehicle they drive. Passwords are argon2id hashes (cloud/src/auth/passwords.ts); a session
-- is stored as the SHA-256 of its random token, so a database leak yields no usable cookie.
-- Sign-in runs as the owner (the tenant is not known yet); everything after it runs as fleet_app
-- with app.tenant_id set, under the policies below.
CREATE TABLE users (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'fleet_manager', 'finance', 'compliance', 'technician', 'driver')),
  vehicle_id    text REFERENCES vehicles (id),
  password_hash text NOT NULL,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (role <> 'driver' OR vehicle_id IS NOT NULL)
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE sessions (
  token_hash bytea PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The application role never sees password hashes or lockout state, and no session at all.
GRANT SELECT (id, tenant_id, email, name, role, vehicle_id, created_at) ON users TO fleet_app;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
