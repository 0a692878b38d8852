/**
 * GET /exports/<token> (api/server.ts): the export a signed link names, regenerated from its run's
 * report and period and streamed into the response as it is made (a year of detail never sits
 * in memory, nor on disk). Progress goes on the run row for whoever watches (`reportSchedules.runs`).
 *
 * Refusals are 403 with a JSON body that says why (expired, or does not verify), 404 for a run
 * that is gone, 503 when this server has no FLEET_SECRET_KEYS to check signatures with.
 */
import type http from 'node:http';
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { inTenant } from '../../db/tenant.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import { CONTENT_TYPES, fileName, writeReport } from './report-spec.ts';
import { getRun } from './schedule-store.ts';
import { verifyExportToken } from './signed-link.ts';

const json = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export async function serveExport(
  pool: pg.Pool,
  box: SecretBox | undefined,
  token: string,
  res: http.ServerResponse,
  log: Logger,
  now = Date.now(),
): Promise<void> {
  if (!box)
    return void json(res, 503, {
      error: 'download links are not configured on this server (FLEET_SECRET_KEYS)',
    });
  let claims: ReturnType<typeof verifyExportToken>;
  try {
    claims = verifyExportToken(box, token, now);
  } catch (err) {
    if (isCloudError(err))
      return void json(res, 403, {
        error: err.code === CloudErrorCode.ExportLinkExpired ? 'link expired' : 'link invalid',
        code: err.code,
        message: err.message,
      });
    return void json(res, 500, { error: 'the link could not be checked' });
  }
  const progress = (rowsDone: number, rowsTotal: number | null) =>
    pool
      .query('UPDATE report_runs SET rows_done = $2, rows_total = $3 WHERE id = $1', [
        claims.runId,
        rowsDone,
        rowsTotal,
      ])
      .then(
        () => undefined,
        () => undefined,
      );
  try {
    await inTenant(pool, claims.tenantId, async (c) => {
      const run = await getRun(c, claims.runId);
      if (!run) return void json(res, 404, { error: 'this export no longer exists' });
      const period = { from: run.periodFrom, to: run.periodTo };
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[run.spec.format],
        'content-disposition': `attachment; filename="${fileName(run.spec, period)}"`,
      });
      await writeReport(c, claims.tenantId, run.spec, period, res, (p) => progress(p.rowsDone, p.rowsTotal));
    });
  } catch (err) {
    log.warn({ run: claims.runId, err: (err as Error).message }, 'export download failed');
    if (!res.headersSent) json(res, 500, { error: 'the export could not be made' });
    // Mid-stream: cut the connection, so the client sees a broken download, not a short file.
    else res.destroy();
  }
}
