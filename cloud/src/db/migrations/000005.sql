-- Integration credentials and webhook secrets, sealed with AES-256-GCM by the application
-- (cloud/src/security/secret-box.ts) under a key from the environment: the database holds only
-- ciphertext and the id of the key that sealed it, so a dump or a replica leaks nothing usable.
CREATE TABLE tenant_secrets (
  tenant_id  text NOT NULL,
  name       text NOT NULL,           -- e.g. "fuel-card-webhook"
  sealed     text NOT NULL,           -- v1.<keyId>.<iv>.<ciphertext>.<tag>
  key_id     text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_secrets TO fleet_app;
ALTER TABLE tenant_secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_secrets TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
