/**
 * Work orders: opened from a due service, a driver's defect report, a DTC, an anomaly suggestion
 * or by hand; assigned to a technician; costed with parts and labour lines (numeric in the
 * database, decimal strings out, never binary floats); closed as done (which resets the service it
 * was opened for) or cancelled.
 *
 *   open ─┬─▶ in_progress ◀─▶ waiting_parts ─┬─▶ done       (terminal; resets vehicle_services)
 *         └───────────────────────────────────┴─▶ cancelled  (terminal)
 *
 * Runs as the tenant (inside inTenant): row-level security scopes every statement.
 */
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';

type Db = Pick<pg.ClientBase, 'query'>;

export const WORK_ORDER_STATUSES = ['open', 'in_progress', 'waiting_parts', 'done', 'cancelled'] as const;
export type WorkOrderStatus = (typeof WORK_ORDER_STATUSES)[number];
export const WORK_ORDER_SOURCES = ['dtc', 'anomaly', 'service', 'defect', 'manual'] as const;
export type WorkOrderSourceKind = (typeof WORK_ORDER_SOURCES)[number];

const NEXT: Record<WorkOrderStatus, readonly WorkOrderStatus[]> = {
  open: ['in_progress', 'waiting_parts', 'done', 'cancelled'],
  in_progress: ['waiting_parts', 'done', 'cancelled', 'open'],
  waiting_parts: ['in_progress', 'done', 'cancelled'],
  done: [],
  cancelled: [],
};

export interface WorkOrder {
  id: number;
  vehicleId: string;
  title: string;
  source: { kind: WorkOrderSourceKind; ref: string | null };
  programId: number | null;
  status: WorkOrderStatus;
  assigneeId: string | null;
  assigneeName: string | null;
  currency: string;
  notes: string | null;
  openedBy: string;
  openedAt: number;
  doneAt: number | null;
  /** Parts, labour and their sum, decimal strings in `currency`. */
  partsCost: string;
  labourCost: string;
  totalCost: string;
}

export interface WorkOrderLine {
  id: number;
  kind: 'part' | 'labour';
  description: string;
  quantity: string;
  unitCost: string;
  amount: string;
}

const COLUMNS = `o.id, o.vehicle_id, o.title, o.source_kind, o.source_ref, o.program_id, o.status, o.assignee_id,
  (SELECT u.name FROM users u WHERE u.id = o.assignee_id) AS assignee_name, o.currency, o.notes, o.opened_by,
  o.opened_at, o.done_at,
  coalesce((SELECT sum(l.amount) FROM work_order_lines l WHERE l.work_order_id = o.id AND l.kind = 'part'), 0)::text AS parts,
  coalesce((SELECT sum(l.amount) FROM work_order_lines l WHERE l.work_order_id = o.id AND l.kind = 'labour'), 0)::text AS labour`;

interface Row {
  id: string;
  vehicle_id: string;
  title: string;
  source_kind: WorkOrderSourceKind;
  source_ref: string | null;
  program_id: string | null;
  status: WorkOrderStatus;
  assignee_id: string | null;
  assignee_name: string | null;
  currency: string;
  notes: string | null;
  opened_by: string;
  opened_at: Date;
  done_at: Date | null;
  parts: string;
  labour: string;
}

const money = (s: string) => Number(s).toFixed(2);

function toWorkOrder(r: Row): WorkOrder {
  return {
    id: Number(r.id),
    vehicleId: r.vehicle_id,
    title: r.title,
    source: { kind: r.source_kind, ref: r.source_ref },
    programId: r.program_id === null ? null : Number(r.program_id),
    status: r.status,
    assigneeId: r.assignee_id,
    assigneeName: r.assignee_name,
    currency: r.currency,
    notes: r.notes,
    openedBy: r.opened_by,
    openedAt: r.opened_at.getTime(),
    doneAt: r.done_at?.getTime() ?? null,
    partsCost: money(r.parts),
    labourCost: money(r.labour),
    totalCost: sumCents(r),
  };
}

/** parts + labour from their decimal strings, added in whole cents (0.10 + 0.20 is 0.30). */
function sumCents(r: Row): string {
  const cents = (s: string) => Math.round(Number(s) * 100);
  return ((cents(r.parts) + cents(r.labour)) / 100).toFixed(2);
}

export interface OpenWorkOrder {
  tenantId: string;
  vehicleId: string;
  title: string;
  source: { kind: WorkOrderSourceKind; ref?: string | null };
  programId?: number | null;
  assigneeId?: string | null;
  currency?: string;
  notes?: string | null;
  openedBy: string;
}

/**
 * Opens a work order; one with the same live source (the same due service, DTC, defect report)
 * is returned instead of a second one (`created: false`).
 */
export async function openWorkOrder(
  db: Db,
  o: OpenWorkOrder,
): Promise<{ created: boolean; workOrder: WorkOrder }> {
  const { rowCount } = await db.query('SELECT 1 FROM vehicles WHERE tenant_id = $1 AND id = $2', [
    o.tenantId,
    o.vehicleId,
  ]);
  if (!rowCount) throw new CloudError(CloudErrorCode.MaintenanceNotFound, `no vehicle ${o.vehicleId}`);
  if (o.programId != null) {
    const p = await db.query('SELECT 1 FROM service_programs WHERE tenant_id = $1 AND id = $2', [
      o.tenantId,
      o.programId,
    ]);
    if (!p.rowCount) throw new CloudError(CloudErrorCode.MaintenanceNotFound, `no program ${o.programId}`);
  }
  if (o.assigneeId) await requireTechnician(db, o.tenantId, o.assigneeId);
  const ref = o.source.ref ?? null;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO work_orders (tenant_id, vehicle_id, title, source_kind, source_ref, program_id, assignee_id,
                              currency, notes, opened_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, vehicle_id, source_kind, source_ref)
       WHERE source_ref IS NOT NULL AND status NOT IN ('done', 'cancelled') DO NOTHING
     RETURNING id`,
    [
      o.tenantId,
      o.vehicleId,
      o.title,
      o.source.kind,
      ref,
      o.programId ?? null,
      o.assigneeId ?? null,
      o.currency ?? 'EUR',
      o.notes ?? null,
      o.openedBy,
    ],
  );
  if (rows[0])
    return { created: true, workOrder: (await getWorkOrder(db, o.tenantId, Number(rows[0].id))).order };
  const { rows: live } = await db.query<{ id: string }>(
    `SELECT id FROM work_orders WHERE tenant_id = $1 AND vehicle_id = $2 AND source_kind = $3 AND source_ref = $4
        AND status NOT IN ('done', 'cancelled')`,
    [o.tenantId, o.vehicleId, o.source.kind, ref],
  );
  return { created: false, workOrder: (await getWorkOrder(db, o.tenantId, Number(live[0]!.id))).order };
}

async function requireTechnician(db: Db, tenantId: string, userId: string): Promise<void> {
  const { rows } = await db.query<{ role: string }>(
    'SELECT role FROM users WHERE tenant_id = $1 AND id = $2',
    [tenantId, userId],
  );
  if (!rows[0]) throw new CloudError(CloudErrorCode.MaintenanceNotFound, `no user ${userId}`);
  if (!['technician', 'fleet_manager', 'admin'].includes(rows[0].role))
    throw new CloudError(
      CloudErrorCode.MaintenanceInvalid,
      `a ${rows[0].role} cannot be assigned a work order`,
    );
}

export async function getWorkOrder(
  db: Db,
  tenantId: string,
  id: number,
): Promise<{ order: WorkOrder; lines: WorkOrderLine[] }> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM work_orders o WHERE o.tenant_id = $1 AND o.id = $2`,
    [tenantId, id],
  );
  if (!rows[0]) throw new CloudError(CloudErrorCode.MaintenanceNotFound, `no work order ${id}`);
  const { rows: lines } = await db.query<{
    id: string;
    kind: 'part' | 'labour';
    description: string;
    quantity: string;
    unit_cost: string;
    amount: string;
  }>(
    `SELECT id, kind, description, quantity::text, unit_cost::text, amount::text
       FROM work_order_lines WHERE tenant_id = $1 AND work_order_id = $2 ORDER BY id`,
    [tenantId, id],
  );
  return {
    order: toWorkOrder(rows[0]),
    lines: lines.map((l) => ({
      id: Number(l.id),
      kind: l.kind,
      description: l.description,
      quantity: l.quantity,
      unitCost: l.unit_cost,
      amount: l.amount,
    })),
  };
}

export async function listWorkOrders(
  db: Db,
  tenantId: string,
  filter: { vehicleId?: string; status?: WorkOrderStatus[]; limit: number },
): Promise<WorkOrder[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM work_orders o
      WHERE o.tenant_id = $1 AND ($2::text IS NULL OR o.vehicle_id = $2)
        AND ($3::text[] IS NULL OR o.status = ANY($3))
      ORDER BY o.opened_at DESC, o.id DESC LIMIT $4`,
    [tenantId, filter.vehicleId ?? null, filter.status?.length ? filter.status : null, filter.limit],
  );
  return rows.map(toWorkOrder);
}

export interface LineInput {
  kind: 'part' | 'labour';
  description: string;
  /** Decimal strings ("2", "1.5", "49.90"): costs never go through binary floats. */
  quantity: string;
  unitCost: string;
}

export async function addLine(db: Db, tenantId: string, workOrderId: number, line: LineInput): Promise<void> {
  const { order } = await getWorkOrder(db, tenantId, workOrderId);
  if (order.status === 'done' || order.status === 'cancelled')
    throw new CloudError(CloudErrorCode.MaintenanceInvalid, `work order ${workOrderId} is ${order.status}`);
  await db.query(
    `INSERT INTO work_order_lines (tenant_id, work_order_id, kind, description, quantity, unit_cost)
     VALUES ($1, $2, $3, $4, $5::numeric, $6::numeric)`,
    [tenantId, workOrderId, line.kind, line.description, line.quantity, line.unitCost],
  );
  await db.query('UPDATE work_orders SET updated_at = now() WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    workOrderId,
  ]);
}

export interface UpdateWorkOrder {
  status?: WorkOrderStatus;
  /** null: unassign. */
  assigneeId?: string | null;
  notes?: string | null;
  /** At completion: the odometer and hour meter readings (optional). */
  odometerKm?: number;
  engineHours?: number;
  /** Epoch ms of completion (default now). */
  doneAt?: number;
}

/** Status, assignee, notes. Done resets the service the order was opened for, in the same transaction. */
export async function updateWorkOrder(
  db: Db,
  tenantId: string,
  id: number,
  u: UpdateWorkOrder,
  now: number,
): Promise<WorkOrder> {
  const { order } = await getWorkOrder(db, tenantId, id);
  if (u.status !== undefined && u.status !== order.status && !NEXT[order.status].includes(u.status))
    throw new CloudError(
      CloudErrorCode.WorkOrderTransition,
      `a ${order.status} work order cannot become ${u.status}`,
    );
  if (u.assigneeId) await requireTechnician(db, tenantId, u.assigneeId);
  const done = u.status === 'done' && order.status !== 'done';
  const doneAt = done ? (u.doneAt ?? now) : null;
  await db.query(
    `UPDATE work_orders SET
        status = coalesce($3, status),
        assignee_id = CASE WHEN $4 THEN $5 ELSE assignee_id END,
        notes = CASE WHEN $6 THEN $7 ELSE notes END,
        done_at = CASE WHEN $8 THEN to_timestamp($9 / 1000.0) ELSE done_at END,
        done_odometer_km = CASE WHEN $8 THEN $10 ELSE done_odometer_km END,
        done_engine_hours = CASE WHEN $8 THEN $11 ELSE done_engine_hours END,
        updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [
      tenantId,
      id,
      u.status ?? null,
      u.assigneeId !== undefined,
      u.assigneeId ?? null,
      u.notes !== undefined,
      u.notes ?? null,
      done,
      doneAt,
      u.odometerKm ?? null,
      u.engineHours ?? null,
    ],
  );
  if (done && order.programId !== null) {
    // Reset: the program counts from this service on (distance, hours and calendar alike).
    await db.query(
      `INSERT INTO vehicle_services (tenant_id, vehicle_id, program_id, done_at, odometer_km, engine_hours, work_order_id)
       VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), $5, $6, $7)
       ON CONFLICT (tenant_id, vehicle_id, program_id) DO UPDATE SET done_at = EXCLUDED.done_at,
         odometer_km = EXCLUDED.odometer_km, engine_hours = EXCLUDED.engine_hours,
         work_order_id = EXCLUDED.work_order_id`,
      [tenantId, order.vehicleId, order.programId, doneAt, u.odometerKm ?? null, u.engineHours ?? null, id],
    );
  }
  return (await getWorkOrder(db, tenantId, id)).order;
}
