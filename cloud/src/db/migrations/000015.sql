-- Notifications: the durable outbox of deliveries (e-mail, webhook, push, SMS), its log, the
-- digests that gather what a throttle or quiet hours held back, and what each user and tenant
-- configured (cloud/src/notifications/).
--
-- Why an outbox of our own in front of the job queue (pg-boss): the rules engine enqueues inside
-- the transaction that opens the alert, as the tenant (fleet_app, RLS), so a rolled-back alert
-- never notifies anyone and a committed one always does. That transaction must not need the queue
-- library's schema or privileges; the worker moves committed outbox rows into the queue.
--
-- alert_id has no foreign key on purpose: the rules engine (issue 16 §1) may reshape alerts, and
-- a delivery log must outlive an alert deleted by a GDPR erasure.

CREATE TABLE notification_deliveries (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        text NOT NULL REFERENCES tenants (id),
  alert_id         bigint,
  kind             text NOT NULL DEFAULT 'alert' CHECK (kind IN ('alert', 'digest')),
  -- Who: a user of the tenant, an external address, or (webhooks) a tenant endpoint.
  recipient_user_id text,
  recipient        text NOT NULL,          -- 'user:<id>' | 'email:<addr>' | 'sms:<e164>' | 'webhook:<id>'
  channel          text NOT NULL CHECK (channel IN ('email', 'webhook', 'push', 'sms')),
  -- Where, resolved at enqueue (an address, a phone number, an endpoint id, a user id for push).
  target           text NOT NULL,
  severity         text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  subject          text NOT NULL,
  body_text        text NOT NULL,
  body_html        text,
  link             text,
  data             jsonb NOT NULL DEFAULT '{}',
  -- Carried by every message of this delivery (Message-ID, Fleet-Idempotency-Key, push payload).
  idempotency_key  text NOT NULL,
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'scheduled', 'sending', 'retrying', 'sent', 'held', 'digested', 'dead')),
  held_reason      text CHECK (held_reason IN ('throttle', 'quiet_hours')),
  digest_id        uuid,
  attempts         integer NOT NULL DEFAULT 0,
  first_attempt_at timestamptz,
  -- A worker that dies mid-send leaves 'sending' with a lease; after it another may send again.
  lease_until      timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
-- The relay's scan: committed rows not yet in the queue.
CREATE INDEX notification_deliveries_queued ON notification_deliveries (created_at) WHERE status = 'queued';
-- The throttle's count: what went to one recipient on one channel lately.
CREATE INDEX notification_deliveries_recent ON notification_deliveries (tenant_id, recipient, channel, sent_at)
  WHERE sent_at IS NOT NULL;
CREATE INDEX notification_deliveries_alert ON notification_deliveries (tenant_id, alert_id);
CREATE INDEX notification_deliveries_dead ON notification_deliveries (tenant_id, updated_at) WHERE status = 'dead';
CREATE INDEX notification_deliveries_held ON notification_deliveries (digest_id) WHERE status = 'held';

-- Append-only history per delivery: queued, sent, retried, failed, dead, held, digested, redelivered.
CREATE TABLE notification_delivery_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL,
  delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
  event       text NOT NULL CHECK (event IN ('queued', 'sent', 'retried', 'failed', 'dead', 'held',
                                             'digested', 'redelivered')),
  attempt     integer NOT NULL DEFAULT 0,
  -- The protocol's answer (SMTP reply code, HTTP status) or our refusal; never a message body.
  detail      text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_delivery_log_delivery ON notification_delivery_log (delivery_id, id);

-- One open digest per (recipient, channel): everything held for them goes into it.
CREATE TABLE notification_digests (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  text NOT NULL REFERENCES tenants (id),
  recipient  text NOT NULL,
  recipient_user_id text,
  channel    text NOT NULL,
  target     text NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('throttle', 'quiet_hours')),
  due_at     timestamptz NOT NULL,
  status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'sent')),
  delivery_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notification_digests_open ON notification_digests (tenant_id, recipient, channel)
  WHERE status = 'open';
CREATE INDEX notification_digests_due ON notification_digests (due_at) WHERE status = 'open';

-- Each user's own channels and quiet hours (a user without a row: the account e-mail, no quiet hours).
CREATE TABLE notification_settings (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email       text,
  phone       text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  channels    text[] NOT NULL DEFAULT '{email,push}',
  quiet_start time,
  quiet_end   time,
  time_zone   text NOT NULL DEFAULT 'UTC',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id),
  CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- Browsers' push subscriptions (the PWA and the dashboard), one per endpoint.
CREATE TABLE push_subscriptions (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  endpoint   text NOT NULL UNIQUE,
  p256dh     text NOT NULL,
  auth       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- Tenant-level webhook endpoints; the signing secret is in tenant_secrets (sealed), named
-- 'notify-webhook:<id>', never here.
CREATE TABLE notification_webhooks (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  name         text NOT NULL,
  url          text NOT NULL,
  format       text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack', 'teams')),
  -- Requests per minute to this endpoint (the receiver's capacity, not ours).
  rate_per_minute integer NOT NULL DEFAULT 60 CHECK (rate_per_minute BETWEEN 1 AND 6000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

GRANT SELECT, INSERT ON notification_deliveries, notification_delivery_log TO fleet_app;
GRANT UPDATE (status, attempts, lease_until, last_error, updated_at, first_attempt_at) ON notification_deliveries TO fleet_app;
GRANT SELECT ON notification_digests TO fleet_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_settings, push_subscriptions, notification_webhooks TO fleet_app;

ALTER TABLE notification_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_delivery_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_digests ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE push_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_webhooks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_deliveries TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON notification_delivery_log TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON notification_digests TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON notification_settings TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON push_subscriptions TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON notification_webhooks TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
