-- Drivers' programme (issue 19 §3): challenges, a points ledger, rewards and badges.
--
--   challenges ──(cloud/src/drivers/challenges: raw events + minute rollups, attributed through
--   │             vehicle_assignments at each row's own time)──▶ live progress (computed, not stored)
--   └─ at ends_at + grace_minutes, the sweep (drivers/programme-sweep.ts) freezes ──▶ challenge_results
--                                                             (append-only; never recomputed)
--   challenge results, badges (driver_badges), score bands, redemptions ──▶ points_ledger
--        (append-only; balance = sum(delta); a BEFORE INSERT trigger locks the driver's
--         points_accounts row and refuses a row that would take the sum below zero)
--   rewards ◀── reward_redemptions: pending (points debited at once) → approved | rejected (refunded)
--
-- Every ledger row is written together with an audit_log entry (drivers/points/ledger.ts).

-- 1. Challenges ------------------------------------------------------------------------------------
CREATE TABLE challenges (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  -- individual: every driver (of group_id when set) on their own; team: each vehicle group
  -- (driver_groups members) as one participant, its members' raw sums added up.
  kind          text NOT NULL CHECK (kind IN ('individual', 'team')),
  group_id      bigint REFERENCES vehicle_groups (id) ON DELETE SET NULL,
  metric        text NOT NULL CHECK (metric IN ('distance_km', 'harsh_per_100km', 'speeding_share', 'idle_share')),
  direction     text NOT NULL CHECK (direction IN ('at_least', 'at_most')),
  target        double precision NOT NULL CHECK (target >= 0 AND target <= 1000000),
  -- Eligibility: a driver under this distance in the window is listed but neither ranked nor paid.
  min_km        double precision NOT NULL DEFAULT 0 CHECK (min_km >= 0 AND min_km <= 1000000),
  -- Given as local wall-clock times in this zone; stored as instants.
  time_zone     text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL,
  -- Late data: what arrives up to ends_at + grace counts; the results are then frozen.
  grace_minutes integer NOT NULL DEFAULT 360 CHECK (grace_minutes BETWEEN 0 AND 10080),
  reward_points integer NOT NULL DEFAULT 0 CHECK (reward_points BETWEEN 0 AND 100000),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finalized_at  timestamptz,
  CHECK (ends_at > starts_at)
);
CREATE INDEX challenges_due ON challenges (ends_at) WHERE finalized_at IS NULL;
CREATE INDEX challenges_tenant ON challenges (tenant_id, starts_at DESC);

-- A finalized challenge is frozen: neither edited nor deleted (its points were paid).
CREATE FUNCTION challenges_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.finalized_at IS NOT NULL THEN
    RAISE EXCEPTION 'challenge % is finalized (% refused)', OLD.id, TG_OP
      USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'challenges_frozen';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER challenges_frozen BEFORE UPDATE OR DELETE ON challenges
  FOR EACH ROW EXECUTE FUNCTION challenges_frozen();

-- One row per participant, written once by the finalization.
CREATE TABLE challenge_results (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  challenge_id bigint NOT NULL REFERENCES challenges (id),
  participant  text NOT NULL,             -- "user:<id>" or "group:<id>"
  name         text NOT NULL,
  km           double precision NOT NULL,
  value        double precision,          -- NULL: the metric has no denominator (no driving)
  eligible     boolean NOT NULL,
  met          boolean NOT NULL,
  rank         integer,                   -- among the eligible with a value; ties share a rank
  points       integer NOT NULL DEFAULT 0,
  sums         jsonb NOT NULL,            -- the raw sums the value came from
  frozen_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (challenge_id, participant)
);

-- 2. Points ----------------------------------------------------------------------------------------
-- One row per driver who ever had points: the row the ledger trigger locks, so concurrent writes
-- for one driver queue up and each sees the sum the previous one left.
CREATE TABLE points_accounts (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  user_id    text PRIMARY KEY REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE points_ledger (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  user_id       text NOT NULL REFERENCES users (id),
  delta         integer NOT NULL CHECK (delta <> 0 AND abs(delta) <= 1000000),
  reason        text NOT NULL CHECK (reason IN ('challenge', 'badge', 'score_band', 'redemption',
                                                'redemption_refund', 'adjustment')),
  ref           text CHECK (ref IS NULL OR length(ref) <= 200),   -- "challenge:12", "badge:low-idle"...
  note          text CHECK (note IS NULL OR length(note) <= 500),
  -- The same award can never be paid twice (a job run again, a request sent twice).
  idem_key      text NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 200),
  balance_after integer NOT NULL,         -- set by the trigger, under the account lock
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idem_key)
);
CREATE INDEX points_ledger_user ON points_ledger (user_id, id);

-- Never below zero, even with concurrent writers: the account row is locked (FOR UPDATE) before
-- the sum is read, so two redemptions of one driver run one after the other; in READ COMMITTED each
-- statement here takes a new snapshot, so the second sees the first's committed row. SECURITY
-- DEFINER: fleet_app needs no UPDATE right on the accounts for the lock.
CREATE FUNCTION points_ledger_balance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  v_balance bigint;
BEGIN
  -- The owner bypasses row-level security: check the person belongs to the entry's tenant here.
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id AND tenant_id = NEW.tenant_id) THEN
    RAISE EXCEPTION 'user % is not in tenant %', NEW.user_id, NEW.tenant_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  INSERT INTO points_accounts (tenant_id, user_id) VALUES (NEW.tenant_id, NEW.user_id)
    ON CONFLICT (user_id) DO NOTHING;
  PERFORM 1 FROM points_accounts WHERE user_id = NEW.user_id FOR UPDATE;
  SELECT coalesce(sum(delta), 0) INTO v_balance FROM points_ledger WHERE user_id = NEW.user_id;
  IF v_balance + NEW.delta < 0 THEN
    RAISE EXCEPTION 'points balance % cannot pay %', v_balance, -NEW.delta
      USING ERRCODE = 'check_violation', CONSTRAINT = 'points_balance_not_negative';
  END IF;
  NEW.balance_after := v_balance + NEW.delta;
  RETURN NEW;
END
$$;
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION points_ledger_balance() SET search_path = %I, pg_temp', current_schema());
END
$$;
CREATE TRIGGER points_ledger_balance BEFORE INSERT ON points_ledger
  FOR EACH ROW EXECUTE FUNCTION points_ledger_balance();

-- Append-only for everyone (fleet_app also lacks the grants): a correction is a new entry.
CREATE FUNCTION append_only_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER points_ledger_append_only BEFORE UPDATE OR DELETE ON points_ledger
  FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER points_ledger_no_truncate BEFORE TRUNCATE ON points_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER challenge_results_append_only BEFORE UPDATE OR DELETE ON challenge_results
  FOR EACH ROW EXECUTE FUNCTION append_only_refuse();

-- 3. Rewards ---------------------------------------------------------------------------------------
CREATE TABLE rewards (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  cost_points integer NOT NULL CHECK (cost_points BETWEEN 1 AND 1000000),
  stock       integer CHECK (stock IS NULL OR stock >= 0),  -- NULL: unlimited
  active      boolean NOT NULL DEFAULT true,                -- retired rewards keep their history
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE reward_redemptions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  reward_id    bigint NOT NULL REFERENCES rewards (id),
  user_id      text NOT NULL REFERENCES users (id),
  cost_points  integer NOT NULL CHECK (cost_points > 0),
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  requested_at timestamptz NOT NULL DEFAULT now(),
  decided_at   timestamptz,
  decided_by   text,
  note         text CHECK (note IS NULL OR length(note) <= 500),
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX reward_redemptions_status ON reward_redemptions (tenant_id, status, id);
CREATE INDEX reward_redemptions_user ON reward_redemptions (user_id, id);

-- 4. Badges ----------------------------------------------------------------------------------------
-- Thresholds are data (cloud/src/drivers/badges/badges.v1.json); this is who earned which, once.
CREATE TABLE driver_badges (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  user_id         text NOT NULL REFERENCES users (id),
  badge_id        text NOT NULL CHECK (length(badge_id) BETWEEN 1 AND 60),
  dataset_version integer NOT NULL,
  evidence        jsonb NOT NULL,
  awarded_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, badge_id)
);
CREATE TRIGGER driver_badges_append_only BEFORE UPDATE OR DELETE ON driver_badges
  FOR EACH ROW EXECUTE FUNCTION append_only_refuse();

-- 5. Row-level security for fleet_app, as for every tenant table -----------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON challenges, rewards TO fleet_app;
GRANT SELECT, INSERT ON challenge_results, points_ledger, driver_badges, reward_redemptions TO fleet_app;
GRANT UPDATE (status, decided_at, decided_by, note) ON reward_redemptions TO fleet_app;
GRANT SELECT ON points_accounts TO fleet_app;

ALTER TABLE challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE challenge_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE points_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE points_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE rewards ENABLE ROW LEVEL SECURITY;
ALTER TABLE reward_redemptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE driver_badges ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON challenges TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON challenge_results TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON points_accounts TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON points_ledger TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON rewards TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON reward_redemptions TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON driver_badges TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
