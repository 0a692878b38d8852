/**
 * vehicle_commands (migration 000024): the signed commands the cloud issued and what the vehicles
 * answered. Every function runs in the caller's transaction, inside inTenant (row-level security);
 * the audit entries go in the same transaction, so a command exists exactly when its audit entry
 * does.
 */

import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { AGENT_COMMANDS, type AgentCommandName, type AgentCommandResult } from '@fleet/shared';
import { signCommand } from '@fleet/shared/command-sign';
import type pg from 'pg';
import { z } from 'zod';
import { appendAudit } from '../db/queries/audit-log.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';

/** [10...86400] s a command may wait for its vehicle, default 600 (10 min). */
export const DEFAULT_COMMAND_TTL_S = 600;
export const MAX_COMMAND_TTL_S = 86_400;

export const COMMAND_STATUSES = [
  'pending',
  'sent',
  'ok',
  'failed',
  'refused',
  'unknown',
  'invalid',
  'expired',
] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export interface CommandView {
  id: string;
  vehicleId: string;
  name: string;
  args: unknown;
  issuedBy: string;
  reason: string | null;
  issuedAt: number;
  expiresAt: number;
  status: CommandStatus;
  sends: number;
  sentAt: number | null;
  answeredAt: number | null;
  result: unknown;
  answer: string | null;
  refusal: string | null;
}

interface Row {
  id: string;
  vehicle_id: string;
  name: string;
  args: unknown;
  issued_by: string;
  reason: string | null;
  issued_at: Date;
  expires_at: Date;
  status: CommandStatus;
  sends: number;
  sent_at: Date | null;
  answered_at: Date | null;
  result: unknown;
  answer: string | null;
  refusal: string | null;
}

const COLUMNS = `id, vehicle_id, name, args, issued_by, reason, issued_at, expires_at, status, sends,
                 sent_at, answered_at, result, answer, refusal`;

const ms = (d: Date | null) => (d ? d.getTime() : null);
export const toView = (r: Row): CommandView => ({
  id: r.id,
  vehicleId: r.vehicle_id,
  name: r.name,
  args: r.args,
  issuedBy: r.issued_by,
  reason: r.reason,
  issuedAt: r.issued_at.getTime(),
  expiresAt: r.expires_at.getTime(),
  status: r.status,
  sends: r.sends,
  sentAt: ms(r.sent_at),
  answeredAt: ms(r.answered_at),
  result: r.result,
  answer: r.answer,
  refusal: r.refusal,
});

export interface NewCommand {
  tenantId: string;
  vehicleId: string;
  name: AgentCommandName;
  args?: unknown;
  /** "user:<id>", "token:<id>", "cli:<operator>". */
  issuedBy: string;
  reason?: string | null;
  ttlSeconds?: number;
}

/**
 * Checks the args as the agent will, signs, stores (status pending) and audits one command.
 * Publishing is the caller's (CommandService): the row is what a reconnect resends.
 */
export async function issueCommand(db: pg.PoolClient, key: KeyObject, c: NewCommand): Promise<CommandView> {
  const spec = AGENT_COMMANDS[c.name];
  if (!spec) throw new CloudError(CloudErrorCode.CommandInvalid, `no command "${c.name}"`);
  const parsed = spec.args.safeParse(c.args ?? {});
  if (!parsed.success)
    throw new CloudError(
      CloudErrorCode.CommandInvalid,
      `${c.name}: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`,
    );
  const reason = c.name === 'clearDtcs' ? (parsed.data as { reason: string }).reason : (c.reason ?? null);
  const { rowCount } = await db.query('SELECT 1 FROM vehicles WHERE id = $1 AND tenant_id = $2', [
    c.vehicleId,
    c.tenantId,
  ]);
  if (!rowCount) throw new CloudError(CloudErrorCode.CommandNotFound, `no vehicle ${c.vehicleId}`);
  const ttl = c.ttlSeconds ?? DEFAULT_COMMAND_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 10 || ttl > MAX_COMMAND_TTL_S)
    throw new CloudError(
      CloudErrorCode.CommandInvalid,
      `ttl ${ttl} s is outside [10...${MAX_COMMAND_TTL_S}]`,
    );
  const issuedAt = Date.now();
  const signed = signCommand(
    {
      id: randomUUID(),
      name: c.name,
      args: parsed.data,
      tenantId: c.tenantId,
      vehicleId: c.vehicleId,
      issuedAt,
      expiresAt: issuedAt + ttl * 1000,
    },
    key,
  );
  const { rows } = await db.query<Row>(
    `INSERT INTO vehicle_commands (id, tenant_id, vehicle_id, name, args, issued_by, reason, issued_at, expires_at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0), to_timestamp($9 / 1000.0), $10)
     RETURNING ${COLUMNS}`,
    [
      signed.id,
      c.tenantId,
      c.vehicleId,
      c.name,
      JSON.stringify(parsed.data),
      c.issuedBy,
      reason,
      issuedAt,
      signed.expiresAt,
      JSON.stringify(signed),
    ],
  );
  await appendAudit(db, {
    tenantId: c.tenantId,
    actor: c.issuedBy,
    action: 'vehicle.command',
    entity: `command:${signed.id}`,
    after: {
      vehicleId: c.vehicleId,
      name: c.name,
      args: parsed.data,
      reason,
      expiresAt: signed.expiresAt,
      nonce: signed.nonce,
      keyId: signed.keyId,
    },
  });
  return toView(rows[0]!);
}

/**
 * Marks one command sent and returns its signed payload, or null when it must not go out (answered,
 * expired, or past its expiry by the database clock: never published after it).
 */
export async function claimSend(
  db: pg.PoolClient,
  id: string,
): Promise<{ payload: unknown; expiresAt: number } | null> {
  const { rows } = await db.query<{ payload: unknown; expires_at: Date }>(
    `UPDATE vehicle_commands SET status = 'sent', sends = sends + 1, sent_at = now()
      WHERE id = $1 AND status IN ('pending', 'sent') AND expires_at > now()
      RETURNING payload, expires_at`,
    [id],
  );
  const r = rows[0];
  return r ? { payload: r.payload, expiresAt: r.expires_at.getTime() } : null;
}

/** Commands of one vehicle still waiting for it (resent at its connect), oldest first. */
export async function waitingCommands(db: pg.PoolClient, vehicleId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM vehicle_commands WHERE vehicle_id = $1 AND status IN ('pending', 'sent') AND expires_at > now()
      ORDER BY issued_at`,
    [vehicleId],
  );
  return rows.map((r) => r.id);
}

/**
 * The vehicle's answer: the first real answer sets the row (and is audited); a `replayed` refusal
 * is the agent recognising a resend of a command it ran, never an answer of its own.
 */
export async function recordAnswer(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId: string,
  answer: AgentCommandResult,
): Promise<CommandView | null> {
  if (answer.id === null) return null;
  if (answer.status === 'refused' && answer.refusal === 'replayed') return null;
  const { rows } = await db.query<Row>(
    `UPDATE vehicle_commands
        SET status = $3, answered_at = now(), result = $4, answer = $5, refusal = $6
      WHERE id = $1 AND vehicle_id = $2 AND answered_at IS NULL
      RETURNING ${COLUMNS}`,
    [
      answer.id,
      vehicleId,
      answer.status,
      answer.result === undefined ? null : JSON.stringify(answer.result),
      answer.reason ?? null,
      answer.refusal ?? null,
    ],
  );
  const row = rows[0];
  if (!row) return null;
  await appendAudit(db, {
    tenantId,
    actor: `vehicle:${vehicleId}`,
    action: 'vehicle.command.result',
    entity: `command:${row.id}`,
    after: {
      name: row.name,
      status: answer.status,
      refusal: answer.refusal ?? null,
      reason: answer.reason ?? null,
      result: answer.result ?? null,
    },
  });
  return toView(row);
}

/** Commands past their expiry without an answer: expired (and audited), never sent again. */
export async function expireCommands(db: pg.PoolClient, tenantId: string): Promise<CommandView[]> {
  const { rows } = await db.query<Row>(
    `UPDATE vehicle_commands SET status = 'expired'
      WHERE tenant_id = $1 AND status IN ('pending', 'sent') AND expires_at <= now()
      RETURNING ${COLUMNS}`,
    [tenantId],
  );
  for (const r of rows)
    await appendAudit(db, {
      tenantId,
      actor: 'system',
      action: 'vehicle.command.expired',
      entity: `command:${r.id}`,
      after: { name: r.name, vehicleId: r.vehicle_id, sends: r.sends },
    });
  return rows.map(toView);
}

export async function listCommands(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId: string,
  limit: number,
): Promise<CommandView[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM vehicle_commands WHERE tenant_id = $1 AND vehicle_id = $2
      ORDER BY issued_at DESC LIMIT $3`,
    [tenantId, vehicleId, limit],
  );
  return rows.map(toView);
}

export async function getCommand(
  db: pg.PoolClient,
  tenantId: string,
  id: string,
): Promise<CommandView | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM vehicle_commands WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ? toView(rows[0]) : null;
}

/** Tenants with commands past their expiry (the sweep's list; as the owner, across tenants). */
export async function tenantsWithDueExpiry(db: pg.Pool): Promise<string[]> {
  const { rows } = await db.query<{ tenant_id: string }>(
    `SELECT DISTINCT tenant_id FROM vehicle_commands WHERE status IN ('pending', 'sent') AND expires_at <= now()`,
  );
  return rows.map((r) => r.tenant_id);
}

/** Commands never published yet (issued by the CLI, or while the vehicle was offline), by vehicle. */
export async function unsentCommands(db: pg.Pool): Promise<{ tenantId: string; vehicleId: string }[]> {
  const { rows } = await db.query<{ tenant_id: string; vehicle_id: string }>(
    `SELECT DISTINCT tenant_id, vehicle_id FROM vehicle_commands
      WHERE status = 'pending' AND expires_at > now()`,
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, vehicleId: r.vehicle_id }));
}
