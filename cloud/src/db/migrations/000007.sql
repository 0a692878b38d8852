-- Signed webhooks (cloud/src/webhooks): each accepted signature once (replay protection within
-- the timestamp window), and the accepted payloads waiting for their consumer (fuel-card
-- reconciliation). Refused requests go to the audit log, not here.
CREATE TABLE webhook_receipts (
  tenant_id   text NOT NULL,
  signature   text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, signature)
);
CREATE INDEX webhook_receipts_received_at ON webhook_receipts (received_at);

CREATE TABLE webhook_inbox (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL,
  source      text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  body        jsonb NOT NULL,
  processed_at timestamptz
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (tenant_id, id) WHERE processed_at IS NULL;

GRANT SELECT ON webhook_inbox TO fleet_app;
ALTER TABLE webhook_inbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_inbox TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
ALTER TABLE webhook_receipts ENABLE ROW LEVEL SECURITY;
