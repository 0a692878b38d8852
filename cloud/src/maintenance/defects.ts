/**
 * A driver's pre-trip inspection (DVIR style) from the PWA. The phone makes `clientId` before any
 * network and the outbox resends it until the cloud says yes: the same key stores nothing new and
 * answers with the report (and work order) the first send made. A marked defect opens a work
 * order (source 'defect', one per report).
 */
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { openWorkOrder } from './work-orders.ts';

type Db = Pick<pg.ClientBase, 'query'>;

/** The checklist the PWA shows (FMCSA 396.11's parts, shortened for a light fleet). */
export const DEFECT_CHECKLIST = [
  'brakes',
  'lights',
  'tyres',
  'steering',
  'horn',
  'wipers',
  'mirrors',
  'fluid_leaks',
  'seat_belts',
  'warning_lights',
] as const;
export type ChecklistItem = (typeof DEFECT_CHECKLIST)[number];

export interface DefectReportInput {
  clientId: string;
  vehicleId: string;
  ts: number;
  items: { item: ChecklistItem; ok: boolean; note?: string | undefined }[];
  odometerKm?: number | undefined;
  note?: string | undefined;
}

export interface DefectReport {
  id: number;
  clientId: string;
  vehicleId: string;
  userId: string;
  ts: number;
  defects: number;
  workOrderId: number | null;
}

export async function fileDefectReport(
  db: Db,
  who: { tenantId: string; userId: string },
  input: DefectReportInput,
): Promise<{ created: boolean; report: DefectReport }> {
  const existing = await findByClientId(db, who.tenantId, input.clientId);
  if (existing) return replay(existing, who.userId, input.vehicleId);
  const defects = input.items.filter((i) => !i.ok);
  const { rows } = await db.query<ReportRow>(
    `INSERT INTO defect_reports (tenant_id, client_id, vehicle_id, user_id, ts, items, defects, odometer_km, note)
     VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6, $7, $8, $9)
     ON CONFLICT (tenant_id, client_id) DO NOTHING
     RETURNING ${REPORT_COLUMNS}`,
    [
      who.tenantId,
      input.clientId,
      input.vehicleId,
      who.userId,
      input.ts,
      JSON.stringify(input.items),
      defects.length,
      input.odometerKm ?? null,
      input.note || null,
    ],
  );
  if (!rows[0]) {
    // Two sends of one report raced: the other one's row is the answer.
    return replay((await findByClientId(db, who.tenantId, input.clientId))!, who.userId, input.vehicleId);
  }
  let report = toReport(rows[0]);
  if (defects.length > 0) {
    const title = `Defect reported: ${defects.map((d) => d.item.replace('_', ' ')).join(', ')}`.slice(0, 200);
    const notes = [
      ...defects.map((d) => `${d.item}: ${d.note?.trim() || 'marked defective'}`),
      input.note ? `Driver's note: ${input.note}` : null,
    ]
      .filter((l): l is string => l !== null)
      .join('\n');
    const { workOrder } = await openWorkOrder(db, {
      tenantId: who.tenantId,
      vehicleId: input.vehicleId,
      title,
      source: { kind: 'defect', ref: `defect:${report.id}` },
      notes,
      openedBy: who.userId,
    });
    await db.query('UPDATE defect_reports SET work_order_id = $3 WHERE tenant_id = $1 AND id = $2', [
      who.tenantId,
      report.id,
      workOrder.id,
    ]);
    report = { ...report, workOrderId: workOrder.id };
  }
  return { created: true, report };
}

const REPORT_COLUMNS = 'id, client_id, vehicle_id, user_id, ts, defects, work_order_id';
interface ReportRow {
  id: string;
  client_id: string;
  vehicle_id: string;
  user_id: string;
  ts: Date;
  defects: number;
  work_order_id: string | null;
}
const toReport = (r: ReportRow): DefectReport => ({
  id: Number(r.id),
  clientId: r.client_id,
  vehicleId: r.vehicle_id,
  userId: r.user_id,
  ts: r.ts.getTime(),
  defects: r.defects,
  workOrderId: r.work_order_id === null ? null : Number(r.work_order_id),
});

async function findByClientId(db: Db, tenantId: string, clientId: string): Promise<ReportRow | null> {
  const { rows } = await db.query<ReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM defect_reports WHERE tenant_id = $1 AND client_id = $2`,
    [tenantId, clientId],
  );
  return rows[0] ?? null;
}

function replay(row: ReportRow, userId: string, vehicleId: string) {
  // The same key from someone else is not a retry of theirs.
  if (row.user_id !== userId || row.vehicle_id !== vehicleId)
    throw new CloudError(CloudErrorCode.DefectReportConflict, 'this defect report id is already used');
  return { created: false, report: toReport(row) };
}

export async function listDefectReports(
  db: Db,
  tenantId: string,
  filter: { vehicleId?: string | null; limit: number },
): Promise<DefectReport[]> {
  const { rows } = await db.query<ReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM defect_reports
      WHERE tenant_id = $1 AND ($2::text IS NULL OR vehicle_id = $2) ORDER BY ts DESC, id DESC LIMIT $3`,
    [tenantId, filter.vehicleId ?? null, filter.limit],
  );
  return rows.map(toReport);
}
