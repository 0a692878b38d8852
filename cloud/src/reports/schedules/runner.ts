/**
 * Runs due report schedules: every `intervalMs` (and whenever a test calls `tick()` with its own
 * clock):
 *
 *   1. claim   one transaction, as the owner across tenants: the due schedules
 *              (`FOR UPDATE SKIP LOCKED`), one `report_runs` row each keyed by (schedule, due
 *              instant) `ON CONFLICT DO NOTHING`, and the schedule's next run in its tenant's
 *              zone. Two runners never both claim one due instant: the second skips the locked
 *              row, or finds the run already inserted.
 *   2. take    queued runs (and runs whose runner died: lease over), `FOR UPDATE SKIP LOCKED`,
 *              marked running with a lease the progress updates extend.
 *   3. run     as the tenant (inTenant): the export streams to a temporary file (progress on the
 *              run row), is mailed through the e-mail channel as an attachment, or a signed link
 *              is mailed instead; the run is marked sent or failed with the error.
 *
 * Each e-mail's Message-ID is the run's (`report-run-<id>-<recipient index>`): should a runner
 * die between the SMTP 250 and marking the run sent, the retry carries the same id for the mail
 * system to drop. Missed instants (the service was down) are not replayed one by one: the next
 * claim runs the latest due one and moves on.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { inTenant } from '../../db/tenant.ts';
import { CloudError, CloudErrorCode, isCloudError } from '../../errors.ts';
import type { EmailSender } from '../../notifications/channels/email.ts';
import { Periodic } from '../../periodic.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { ExportProgress } from '../exports/detail-export.ts';
import { nextRun, Recurrence, reportPeriod } from './recurrence.ts';
import { CONTENT_TYPES, fileName, type ReportSpec, specOf, specPeriod, writeReport } from './report-spec.ts';
import { exportLink, signExportToken } from './signed-link.ts';

export interface ReportRunnerOptions {
  /** Sends the e-mails (the notifications' SMTP channel); absent: runs fail with E906. */
  email?: EmailSender | undefined;
  /** Signs mailed links; absent: link deliveries fail with E906. */
  secretBox?: SecretBox | undefined;
  /** Where links point (signed-link.ts exportLink): e.g. https://fleet.example.com/api/exports. */
  linkBaseUrl?: string | undefined;
  /** ms between ticks (0: no timer; call tick()). */
  intervalMs: number;
  /** The clock (tests inject theirs). */
  now?: () => number;
  /** A run not finished (nor its lease extended) within this is taken again. */
  leaseMs?: number;
  /** A run is tried this many times at most. */
  maxAttempts?: number;
  log: Logger;
}

interface TakenRun {
  id: string;
  tenant_id: string;
  schedule_id: string | null;
  due_at: Date;
  kind: string;
  params: unknown;
  format: string;
  period_from: Date;
  period_to: Date;
  attempts: number;
  name: string | null;
  recipients: string[] | null;
  delivery: 'attachment' | 'link' | null;
  link_ttl_hours: number | null;
}

export interface TickResult {
  claimed: number;
  sent: number;
  failed: number;
}

export class ReportScheduleRunner {
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly periodic: Periodic<TickResult>;
  readonly stats = { claimed: 0, sent: 0, failed: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: ReportRunnerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.leaseMs = opts.leaseMs ?? 10 * 60_000;
    this.periodic = new Periodic({
      intervalMs: opts.intervalMs,
      name: 'report schedules',
      log: opts.log,
      pass: () => this.pass(),
    });
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass: claim due schedules, then run what is queued. Overlapping calls share one pass. */
  tick(): Promise<TickResult> {
    return this.periodic.run();
  }

  private async pass(): Promise<TickResult> {
    const claimed = await this.claimDue();
    const result: TickResult = { claimed, sent: 0, failed: 0 };
    // Runs whose last attempt's runner died too, every attempt used: failed, not left running.
    const max = this.opts.maxAttempts ?? 3;
    await this.pool.query(
      `UPDATE report_runs SET status = 'failed', finished_at = $1, lease_until = NULL,
              error = coalesce(error || '; ', '') || 'gave up after ' || attempts || ' attempts'
        WHERE status = 'running' AND lease_until < $1 AND attempts >= $2`,
      [new Date(this.now()), max],
    );
    for (;;) {
      const run = await this.takeOne();
      if (!run) break;
      if (await this.execute(run)) result.sent++;
      else result.failed++;
    }
    this.stats.claimed += result.claimed;
    this.stats.sent += result.sent;
    this.stats.failed += result.failed;
    return result;
  }

  /** Step 1: a run row per due schedule, the schedule moved to its next instant. */
  async claimDue(limit = 50): Promise<number> {
    const now = this.now();
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const { rows } = await c.query<{
        id: string;
        tenant_id: string;
        kind: string;
        params: unknown;
        format: string;
        recurrence: unknown;
        next_run_at: Date;
        time_zone: string;
      }>(
        `SELECT s.id, s.tenant_id, s.kind, s.params, s.format, s.recurrence, s.next_run_at, t.time_zone
           FROM report_schedules s JOIN tenants t ON t.id = s.tenant_id
          WHERE s.enabled AND s.next_run_at <= $1
          ORDER BY s.next_run_at LIMIT $2
            FOR UPDATE OF s SKIP LOCKED`,
        [new Date(now), limit],
      );
      let claimed = 0;
      for (const s of rows) {
        const due = s.next_run_at.getTime();
        let next: Date | null = null;
        try {
          const rec = Recurrence.parse(s.recurrence);
          const spec = specOf(s);
          next = new Date(nextRun(rec, s.time_zone, Math.max(due, now)));
          const period = specPeriod(spec, due, reportPeriod(rec.frequency, due, s.time_zone));
          const ins = await c.query(
            `INSERT INTO report_runs (tenant_id, schedule_id, trigger, due_at, kind, params, format, period_from,
                                      period_to, status)
             VALUES ($1, $2, 'schedule', $3, $4, $5, $6, $7, $8, 'queued')
             ON CONFLICT (schedule_id, due_at) WHERE trigger = 'schedule' DO NOTHING`,
            [
              s.tenant_id,
              s.id,
              s.next_run_at,
              spec.kind,
              JSON.stringify(spec.params),
              spec.format,
              new Date(period.from),
              new Date(period.to),
            ],
          );
          claimed += ins.rowCount ?? 0;
        } catch (err) {
          // A schedule that no longer parses (or a zone ICU dropped) is switched off, not retried each tick.
          this.opts.log.warn({ schedule: s.id, err: (err as Error).message }, 'report schedule disabled');
          await c.query('UPDATE report_schedules SET enabled = false WHERE id = $1', [s.id]);
          continue;
        }
        await c.query('UPDATE report_schedules SET next_run_at = $2 WHERE id = $1', [s.id, next]);
      }
      await c.query('COMMIT');
      return claimed;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Step 2: one queued run (or one whose runner died), leased to this runner. */
  private async takeOne(): Promise<TakenRun | null> {
    const now = new Date(this.now());
    const { rows } = await this.pool.query<TakenRun>(
      `WITH taken AS (
         UPDATE report_runs r SET status = 'running', attempts = r.attempts + 1, started_at = $1,
                lease_until = $1::timestamptz + make_interval(secs => $2), error = NULL
          WHERE r.id = (SELECT id FROM report_runs
                         WHERE trigger <> 'api'
                           AND ((status = 'queued') OR (status = 'running' AND lease_until < $1))
                           AND attempts < $3
                         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING r.*)
       SELECT t.id, t.tenant_id, t.schedule_id, t.due_at, t.kind, t.params, t.format, t.period_from, t.period_to,
              t.attempts, s.name, s.recipients, s.delivery, s.link_ttl_hours
         FROM taken t LEFT JOIN report_schedules s ON s.id = t.schedule_id`,
      [now, this.leaseMs / 1000, this.opts.maxAttempts ?? 3],
    );
    return rows[0] ?? null;
  }

  private async progress(runId: string, p: ExportProgress): Promise<void> {
    await this.pool.query(
      `UPDATE report_runs SET rows_done = $2, rows_total = $3,
              lease_until = $4::timestamptz + make_interval(secs => $5)
        WHERE id = $1 AND status = 'running'`,
      [runId, p.rowsDone, p.rowsTotal, new Date(this.now()), this.leaseMs / 1000],
    );
  }

  private async finish(runId: string, status: 'sent' | 'failed', error: string | null, bytes: number | null) {
    await this.pool.query(
      `UPDATE report_runs SET status = $2, error = $3, bytes = $4, finished_at = $5, lease_until = NULL WHERE id = $1`,
      [runId, status, error, bytes, new Date(this.now())],
    );
  }

  /** Step 3. True when every recipient's e-mail went out. */
  private async execute(run: TakenRun): Promise<boolean> {
    const log = this.opts.log.child({ run: run.id, tenant: run.tenant_id });
    let dir: string | undefined;
    try {
      if (!run.recipients || !run.delivery)
        throw new CloudError(CloudErrorCode.ReportRunFailed, 'the schedule of this run was deleted');
      const email = this.opts.email;
      if (!email)
        throw new CloudError(
          CloudErrorCode.ReportDeliveryUnconfigured,
          'no e-mail channel is configured (FLEET_SMTP_URL): scheduled reports cannot be sent',
        );
      const spec: ReportSpec = specOf(run);
      const period = { from: run.period_from.getTime(), to: run.period_to.getTime() };
      const file = fileName(spec, period);
      const subject = `${run.name}: ${file}`;
      const span = `${run.period_from.toISOString()} to ${run.period_to.toISOString()}`;
      let attachment: { filename: string; path: string; contentType: string } | undefined;
      let text: string;
      let bytes: number | null = null;
      if (run.delivery === 'attachment') {
        dir = await mkdtemp(path.join(tmpdir(), 'fleet-report-'));
        const target = path.join(dir, file);
        const out = createWriteStream(target);
        const closed = new Promise<void>((resolve, reject) => {
          out.once('close', resolve);
          out.once('error', reject);
        });
        await inTenant(this.pool, run.tenant_id, (c) =>
          writeReport(c, run.tenant_id, spec, period, out, (p) => this.progress(run.id, p)),
        );
        await closed;
        bytes = (await stat(target)).size;
        attachment = { filename: file, path: target, contentType: CONTENT_TYPES[spec.format].split(';')[0]! };
        text = `${run.name}\n\nThe ${spec.kind} report for ${span} is attached (${file}, ${bytes} bytes).`;
      } else {
        const box = this.opts.secretBox;
        if (!box || !this.opts.linkBaseUrl)
          throw new CloudError(
            CloudErrorCode.ReportDeliveryUnconfigured,
            'download links need FLEET_SECRET_KEYS and the API public URL',
          );
        const expiresAt = this.now() + (run.link_ttl_hours ?? 168) * 3_600_000;
        const link = exportLink(
          this.opts.linkBaseUrl,
          signExportToken(box, { tenantId: run.tenant_id, runId: Number(run.id), expiresAt }),
        );
        text =
          `${run.name}\n\nThe ${spec.kind} report for ${span} (${file}) can be downloaded until ` +
          `${new Date(expiresAt).toISOString()}:\n\n${link}`;
      }
      for (const [i, to] of run.recipients.entries())
        await email.sendMessage({
          to,
          subject,
          text,
          idempotencyKey: `report-run-${run.id}-${i}`,
          headers: { 'Fleet-Report-Run': run.id, 'Fleet-Report-Due': run.due_at.toISOString() },
          ...(attachment ? { attachments: [attachment] } : {}),
          date: new Date(this.now()),
        });
      await this.finish(run.id, 'sent', null, bytes);
      log.info({ kind: run.kind, recipients: run.recipients.length, bytes }, 'report run sent');
      return true;
    } catch (err) {
      const why = isCloudError(err) ? `E${err.code}: ${err.message}` : (err as Error).message;
      // A transient SMTP failure leaves the run to be taken again (up to maxAttempts) when a
      // short lease ends, a minute on; anything else fails it for good.
      const transient = isCloudError(err, CloudErrorCode.DeliveryTransient);
      if (transient && run.attempts < (this.opts.maxAttempts ?? 3))
        await this.pool.query(
          `UPDATE report_runs SET error = $2, lease_until = $3::timestamptz + interval '1 minute' WHERE id = $1`,
          [run.id, why.slice(0, 500), new Date(this.now())],
        );
      else await this.finish(run.id, 'failed', why.slice(0, 500), null);
      log.warn({ err: why }, 'report run failed');
      return false;
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }
}
