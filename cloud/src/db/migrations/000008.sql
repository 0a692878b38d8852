-- Scoped API tokens for integrations: `flt_<id>_<secret>`, stored as the SHA-256 of the whole
-- token, limited to the listed permissions (a subset of what the creating admin's role has), and
-- revocable. Password reset tokens: single use, one hour, stored hashed.
CREATE TABLE api_tokens (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  token_hash  bytea NOT NULL UNIQUE,
  permissions text[] NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);
GRANT SELECT (id, tenant_id, name, permissions, created_by, created_at, expires_at, revoked_at) ON api_tokens TO fleet_app;
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE password_resets (
  token_hash bytea PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;

-- What the application role may change, always inside its tenant (WITH CHECK as well as USING).
GRANT INSERT ON api_tokens TO fleet_app;
GRANT UPDATE (revoked_at) ON api_tokens TO fleet_app;
DROP POLICY tenant_isolation ON api_tokens;
CREATE POLICY tenant_isolation ON api_tokens TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Erasure (GDPR) and password resets by the tenant's admin.
GRANT UPDATE (name, email, password_hash, failed_logins, locked_until) ON users TO fleet_app;
GRANT SELECT (user_id, expires_at) ON sessions TO fleet_app;
GRANT DELETE ON sessions TO fleet_app;
CREATE POLICY tenant_isolation ON sessions TO fleet_app
  USING (EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id
                  AND u.tenant_id = current_setting('app.tenant_id', true)));
GRANT INSERT ON password_resets TO fleet_app;
CREATE POLICY tenant_isolation ON password_resets TO fleet_app
  USING (EXISTS (SELECT 1 FROM users u WHERE u.id = password_resets.user_id
                  AND u.tenant_id = current_setting('app.tenant_id', true)))
  WITH CHECK (EXISTS (SELECT 1 FROM users u WHERE u.id = password_resets.user_id
                       AND u.tenant_id = current_setting('app.tenant_id', true)));
