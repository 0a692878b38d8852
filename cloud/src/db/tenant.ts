import type pg from 'pg';

/**
 * Runs `fn` in a transaction as the non-superuser `fleet_app` with `app.tenant_id` set to
 * `tenantId`: row-level security scopes every statement, whatever the query forgets. The API runs
 * every signed-in procedure through it; the fuel imports, the model training data and the live
 * feed use it the same way, so tenant isolation lives with the database, not with the API.
 */
export async function inTenant<T>(
  db: pg.Pool,
  tenantId: string,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const c = await db.connect();
  try {
    // One round trip for the three (a multi-statement simple query cannot take parameters, so the
    // tenant id goes in as an escaped literal): on a request that runs one query, this was half
    // of its trips to the database.
    await c.query(
      `BEGIN; SET LOCAL ROLE fleet_app; SELECT set_config('app.tenant_id', ${c.escapeLiteral(tenantId)}, true)`,
    );
    const result = await fn(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
