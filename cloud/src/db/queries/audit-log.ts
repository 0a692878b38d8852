import type pg from 'pg';

export interface AuditEntry {
  /** null: a platform-level action. */
  tenantId: string | null;
  /** "user:<id>", "token:<id>", "vehicle:<id>", "system". */
  actor: string;
  /** "<domain>.<verb>", e.g. "vehicle.update". */
  action: string;
  /** "<type>:<id>" of what changed. */
  entity?: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Appends one entry to the hash-chained audit log (migration 000004) in the caller's transaction,
 * so the entry exists exactly when the change it records does. Returns its id.
 */
export async function appendAudit(db: pg.Pool | pg.PoolClient, e: AuditEntry): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT audit_append($1, $2, $3, $4, $5::jsonb, $6::jsonb) AS id',
    [
      e.tenantId,
      e.actor,
      e.action,
      e.entity ?? null,
      e.before === undefined ? null : JSON.stringify(e.before),
      e.after === undefined ? null : JSON.stringify(e.after),
    ],
  );
  return rows[0]!.id;
}

export type AuditVerdict =
  | { ok: true; entries: number }
  | {
      ok: false;
      entries: number;
      /** The first entry whose chain does not hold. */
      firstBadId: number;
      /** edited: its content no longer matches its hash; unchained: the entry before it was deleted or moved. */
      problem: 'edited' | 'unchained';
    };

/** Walks the whole chain in the database (the same hash function that appended it). */
export async function verifyAuditChain(db: pg.Pool | pg.ClientBase): Promise<AuditVerdict> {
  const { rows } = await db.query<{ id: number; problem: 'edited' | 'unchained'; checked: number }>(
    'SELECT id, problem, checked FROM audit_verify()',
  );
  const bad = rows[0];
  if (bad) return { ok: false, entries: bad.checked, firstBadId: bad.id, problem: bad.problem };
  const { rows: n } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
  return { ok: true, entries: n[0]!.n };
}
