-- Remote commands to vehicles (issue 18 §3): what the cloud signed and sent, to which vehicle, by
-- whom, and what the vehicle answered.
--
--   tRPC commands.send / fleet-cloud vehicle cmd ─▶ vehicle_commands (pending)
--     ─▶ publish .../commands (QoS 1; again each time the vehicle comes online, until expires_at)
--     ─▶ agent answers .../commands-ack ─▶ status ok | failed | refused | unknown | invalid
--   no answer by expires_at ─▶ status expired (never published after it)
--
-- `payload` is the signed command exactly as published: a resend is byte-identical, so the agent's
-- once-only store recognises it. Every send and every answer is also in the audit chain.
CREATE TABLE vehicle_commands (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  vehicle_id  text NOT NULL REFERENCES vehicles (id),
  name        text NOT NULL,
  args        jsonb NOT NULL DEFAULT '{}',
  -- Who asked ("user:<id>", "token:<id>", "cli") and why (clearDtcs requires it).
  issued_by   text NOT NULL,
  reason      text,
  issued_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL CHECK (expires_at > issued_at),
  payload     jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'sent', 'ok', 'failed', 'refused', 'unknown', 'invalid', 'expired')),
  -- Publishes so far (the first at send when the vehicle is online, then one per reconnect).
  sends       integer NOT NULL DEFAULT 0,
  sent_at     timestamptz,
  answered_at timestamptz,
  result      jsonb,
  -- The agent's reason for a failure or refusal, and the refusal's kind (forged, expired...).
  answer      text,
  refusal     text
);
CREATE INDEX vehicle_commands_history ON vehicle_commands (tenant_id, vehicle_id, issued_at DESC);
-- The sweeps: what still waits for a vehicle (resend on reconnect, expire when due).
CREATE INDEX vehicle_commands_waiting ON vehicle_commands (vehicle_id, expires_at)
  WHERE status IN ('pending', 'sent');

GRANT SELECT, INSERT, UPDATE ON vehicle_commands TO fleet_app;
ALTER TABLE vehicle_commands ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vehicle_commands TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
