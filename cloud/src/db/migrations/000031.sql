-- Receipt photos of the drivers' logged refuels (issue 19 §4): taken on the phone (offline too),
-- compressed there, queued with the refuel in the PWA's outbox and uploaded once online.
--
--   driver PWA --PUT /receipts/<refuel client id> (raw bytes, x-receipt-id, x-content-sha256)--> cloud
--     cloud: size <= 2 MB, JPEG/PNG/WebP by magic bytes, SHA-256 recomputed = the phone's
--     --> refuel_receipts UNIQUE (tenant_id, client_id): a resend finds the first row
--   finance (/fuel) --GET /receipts/<refuel log id>--> the image, this tenant's only (RLS)
--
-- The bytes live in the row (bytea, TOASTed out of line): a compressed phone photo is ~100-300 kB
-- and the limit is 2 MB, so no object store is needed and a receipt is as tenant-scoped,
-- transactional and backed up as its refuel.
CREATE TABLE refuel_receipts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  -- The receipt's idempotency key, made on the phone when the photo was queued.
  client_id     uuid NOT NULL,
  refuel_log_id bigint NOT NULL REFERENCES refuel_logs (id) ON DELETE CASCADE,
  user_id       text NOT NULL,
  content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
  -- Hex SHA-256 of `bytes`, as the phone computed it and the cloud recomputed it.
  sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes    integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 2097152),
  bytes         bytea NOT NULL CHECK (length(bytes) = size_bytes),
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, client_id),
  -- One receipt per refuel: a second photo for the same refuel is refused, not stacked.
  UNIQUE (tenant_id, refuel_log_id)
);

GRANT SELECT, INSERT ON refuel_receipts TO fleet_app;
ALTER TABLE refuel_receipts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refuel_receipts TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
