/**
 *   POST /webhooks/<tenant>/fuel-card ─ verify, once ─▶ webhook_inbox ─(this, every 2 s)─▶ fuel_transactions
 *                  (webhooks/receiver.ts)                                       └─ bad items: dead_letters
 *
 * Why drain the inbox instead of storing the purchase in the request: the receiver answers as
 * soon as the signed body is durably queued, whatever the payload's content, so a provider never
 * retries (and never gets a 5xx) because of our validation or a busy database; one code path
 * turns the queue into purchases, and a body refused for its content is kept in dead_letters with
 * the reason rather than bounced back to a provider that cannot fix it. The delay is the poll
 * interval, nothing the reconciliation (minutes-wide windows) notices.
 *
 * Each body's new purchases are reconciled right after their COMMIT (reconcile.ts, as the tenant):
 * `/fuel` shows a verdict seconds after the provider posted. A failed reconciliation does not undo
 * the purchase; the sweep (reconcile-sweep.ts) takes the still-pending purchase next time.
 *
 * One inbox row per transaction, taken with FOR UPDATE SKIP LOCKED: several cloud processes can
 * drain side by side; a crash leaves the row unprocessed and it is taken again. Runs as the owner,
 * as the ingest does (a system job across tenants), every statement naming its tenant.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { insertDeadLetters } from '../db/queries/insert-dead-letter.ts';
import {
  type FuelTransactionRow,
  insertFuelTransactions,
  knownVehicles,
} from '../db/queries/insert-fuel-transactions.ts';
import { countReject } from '../metrics/ingest-metrics.ts';
import { periodAround, reconcileTenant } from './reconcile.ts';
import { FuelCardWebhookBody, parseTransaction } from './transaction.ts';

/** The webhook source name: the tenant's secret is `webhook:fuel-card`, the URL /webhooks/<tenant>/fuel-card. */
export const FUEL_CARD_SOURCE = 'fuel-card';

export interface InboxDrainResult {
  /** Inbox rows processed. */
  messages: number;
  stored: number;
  duplicates: number;
  /** Items (or whole bodies) refused, each in dead_letters with its reason. */
  refused: number;
}

/** Processes up to `limit` pending fuel-card webhook bodies, oldest first. */
export async function drainFuelCardInbox(pool: pg.Pool, log: Logger, limit = 100): Promise<InboxDrainResult> {
  const result: InboxDrainResult = { messages: 0, stored: 0, duplicates: 0, refused: 0 };
  while (result.messages < limit) {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const { rows } = await c.query<{ id: string; tenant_id: string; body: unknown }>(
        `SELECT id, tenant_id, body FROM webhook_inbox
          WHERE source = $1 AND processed_at IS NULL
          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [FUEL_CARD_SOURCE],
      );
      const msg = rows[0];
      if (!msg) {
        await c.query('COMMIT');
        break;
      }
      const topic = `webhook:${msg.tenant_id}/${FUEL_CARD_SOURCE}#${msg.id}`;
      const letters: { topic: string; reason: string; payload: Buffer }[] = [];
      const good: FuelTransactionRow[] = [];
      const body = FuelCardWebhookBody.safeParse(msg.body);
      if (!body.success) {
        letters.push({
          topic,
          reason: 'body is neither a purchase nor {"transactions": [...]} (1-1000 items)',
          payload: Buffer.from(JSON.stringify(msg.body)),
        });
      } else {
        const parsed = body.data.transactions.map((item) => ({ item, r: parseTransaction(item) }));
        const vehicles = await knownVehicles(
          c,
          msg.tenant_id,
          parsed.flatMap((p) => (p.r.ok && p.r.tx.vehicleId ? [p.r.tx.vehicleId] : [])),
        );
        parsed.forEach(({ item, r }, i) => {
          let reason = r.ok ? null : r.reason;
          if (r.ok && r.tx.vehicleId !== undefined && !vehicles.has(r.tx.vehicleId)) {
            reason = `vehicle "${r.tx.vehicleId}" is not a vehicle of tenant "${msg.tenant_id}"`;
          }
          if (reason !== null || !r.ok) {
            letters.push({
              topic,
              reason: `item ${i}: ${reason}`,
              payload: Buffer.from(JSON.stringify(item)),
            });
          } else {
            good.push({ tx: r.tx, raw: item });
          }
        });
      }
      const inserted = await insertFuelTransactions(c, msg.tenant_id, 'webhook', good);
      await insertDeadLetters(c, letters);
      await c.query('UPDATE webhook_inbox SET processed_at = now() WHERE id = $1', [msg.id]);
      await c.query('COMMIT');
      const stored = good.filter((g) => inserted.has(g.tx.externalId)).map((g) => g.tx.ts);
      if (stored.length > 0) {
        await reconcileTenant(
          pool,
          msg.tenant_id,
          periodAround(Math.min(...stored), Math.max(...stored)),
        ).catch((err: unknown) =>
          log.warn(
            { tenant: msg.tenant_id, err: (err as Error).message },
            'fuel-card purchases stored but not reconciled; the sweep retries',
          ),
        );
      }
      result.messages++;
      result.stored += inserted.size;
      result.duplicates += good.length - inserted.size;
      result.refused += letters.length;
      for (const l of letters) {
        log.warn({ topic: l.topic, reason: l.reason }, 'fuel-card webhook item refused');
        // An item's own check (zod) words its reasons freely: those are schema refusals.
        countReject('fuel_cards', l.reason, 'schema');
      }
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
  return result;
}

/** Drains the inbox every `intervalMs` (default 2000) until stopped; errors are logged, never thrown. */
export class FuelCardInboxConsumer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = drainFuelCardInbox(this.pool, this.log)
        .then((r) => {
          if (r.messages > 0) this.log.info(r, 'fuel-card webhooks processed');
        })
        .catch((err: unknown) =>
          this.log.warn({ err: (err as Error).message }, 'fuel-card inbox not drained; retrying'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
