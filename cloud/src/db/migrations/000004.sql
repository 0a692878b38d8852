-- The audit log: every mutating action (who, what, when, before/after), append-only and
-- hash-chained so that an edit, a deletion or a reordering made with superuser rights is found.
--
--   entry n: hash(n) = sha256(hash(n-1) || canonical(n)),   hash(0) = 32 zero bytes
--
-- canonical(n) covers the id, the time in microseconds and every field; jsonb's text form is
-- already canonical (keys sorted, one spelling per value). The same function computes the hash on
-- append and on verification, so the two can never disagree on a format.
--
-- Append-only twice over: the application role gets SELECT and audit_append() only, and a trigger
-- refuses UPDATE, DELETE and TRUNCATE for everyone (a superuser can still get around it with
-- session_replication_role or by disabling the trigger, which is what the chain is for).

CREATE SEQUENCE audit_log_id_seq;

CREATE TABLE audit_log (
  id         bigint PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
  at         timestamptz NOT NULL,
  tenant_id  text,                  -- NULL: a platform-level action
  actor      text NOT NULL,         -- "user:<id>", "token:<id>", "vehicle:<id>", "system"
  action     text NOT NULL,         -- "<domain>.<verb>", e.g. "vehicle.update"
  entity     text,                  -- "<type>:<id>" of what changed
  before     jsonb,
  after      jsonb,
  prev_hash  bytea NOT NULL,
  hash       bytea NOT NULL UNIQUE
);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);

-- Each field as "<length>:<text>" (or "-" for NULL): unambiguous whatever the values contain.
CREATE FUNCTION audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(length(v)::text || ':' || v, '-') $$;

CREATE FUNCTION audit_entry_hash(prev bytea, id bigint, at timestamptz, tenant_id text, actor text,
                                 action text, entity text, before jsonb, after jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(prev || convert_to(
    audit_field(id::text) || audit_field(((extract(epoch FROM at) * 1000000)::bigint)::text) ||
    audit_field(tenant_id) || audit_field(actor) || audit_field(action) || audit_field(entity) ||
    audit_field(before::text) || audit_field(after::text), 'UTF8'))
$$;

-- Appends one entry; serialised by an advisory lock so the chain has one order.
CREATE FUNCTION audit_append(p_tenant_id text, p_actor text, p_action text, p_entity text,
                             p_before jsonb, p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  v_id bigint;
  v_at timestamptz := clock_timestamp();
  v_prev bytea;
BEGIN
  -- The application role writes for the tenant of its transaction only.
  -- (An unset setting reads NULL, or '' once a SET LOCAL of it has ended on this connection.)
  IF nullif(current_setting('app.tenant_id', true), '') IS NOT NULL
     AND p_tenant_id IS DISTINCT FROM current_setting('app.tenant_id', true) THEN
    RAISE EXCEPTION 'audit entry for tenant % outside the transaction''s tenant', p_tenant_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(727274004);
  SELECT hash INTO v_prev FROM audit_log ORDER BY id DESC LIMIT 1;
  v_prev := coalesce(v_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
  v_id := nextval('audit_log_id_seq');
  INSERT INTO audit_log (id, at, tenant_id, actor, action, entity, before, after, prev_hash, hash)
  VALUES (v_id, v_at, p_tenant_id, p_actor, p_action, p_entity, p_before, p_after, v_prev,
          audit_entry_hash(v_prev, v_id, v_at, p_tenant_id, p_actor, p_action, p_entity, p_before, p_after));
  RETURN v_id;
END
$$;
-- A SECURITY DEFINER function must not find objects through the caller's search_path.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION audit_append(text, text, text, text, jsonb, jsonb) SET search_path = %I, pg_temp',
                 current_schema());
END
$$;

-- The first entry whose chain does not hold, and why; no row when the whole log is intact.
--   edited:    its stored hash is not the hash of its content
--   unchained: its prev_hash is not the hash of the entry before it (one was deleted or moved)
CREATE FUNCTION audit_verify() RETURNS TABLE (id bigint, problem text, checked bigint)
LANGUAGE sql STABLE AS $$
  WITH chain AS (
    SELECT a.id, a.hash, a.prev_hash,
           coalesce(lag(a.hash) OVER (ORDER BY a.id),
                    '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) AS expected_prev,
           audit_entry_hash(a.prev_hash, a.id, a.at, a.tenant_id, a.actor, a.action, a.entity, a.before, a.after) AS recomputed,
           count(*) OVER () AS total
      FROM audit_log a)
  SELECT c.id,
         CASE WHEN c.prev_hash <> c.expected_prev THEN 'unchained'
              ELSE 'edited' END,
         c.total
    FROM chain c
   WHERE c.prev_hash <> c.expected_prev OR c.hash <> c.recomputed
   ORDER BY c.id
   LIMIT 1
$$;

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

REVOKE ALL ON audit_log FROM PUBLIC;
GRANT SELECT ON audit_log TO fleet_app;
REVOKE ALL ON FUNCTION audit_append(text, text, text, text, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(text, text, text, text, jsonb, jsonb) TO fleet_app;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log TO fleet_app
  USING (tenant_id = current_setting('app.tenant_id', true));
