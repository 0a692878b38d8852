/**
 * The price the tenant paid per litre over a span: sum(amount) / sum(litres) of its priced
 * purchases in its main currency (the one most of them are in); the 90 days before the span when
 * the span has none. null: no priced purchase at all, so idling and driver costs show none.
 */
import type pg from 'pg';

export async function averageFuelPrice(
  db: Pick<pg.PoolClient, 'query'>,
  q: { tenantId: string; from: number; to: number },
): Promise<{ currency: string; perLitre: number } | null> {
  for (const [from, to] of [
    [q.from, q.to],
    [q.from - 90 * 86_400_000, q.from],
  ] as const) {
    const { rows } = await db.query<{ currency: string; price: number }>(
      `SELECT currency, sum(amount)::float8 / sum(litres) AS price FROM fuel_transactions
        WHERE tenant_id = $1 AND amount IS NOT NULL AND currency IS NOT NULL
          AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
        GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1`,
      [q.tenantId, from, to],
    );
    if (rows[0]) return { currency: rows[0].currency, perLitre: rows[0].price };
  }
  return null;
}
