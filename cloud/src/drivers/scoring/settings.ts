/**
 * A tenant's scoring settings (driver_score_settings, migration 000027); a tenant without a row
 * scores with DEFAULT_SETTINGS, and a weight the row does not name keeps its default.
 */
import type pg from 'pg';
import { DEFAULT_SETTINGS, METRICS, type Metric, type PeerGroupBy, type ScoreSettings } from './score.ts';

export async function readScoreSettings(db: pg.ClientBase, tenantId: string): Promise<ScoreSettings> {
  const { rows } = await db.query<{
    weights: Partial<Record<Metric, number>>;
    min_km: number;
    window_days: number;
    peer_group_by: PeerGroupBy;
    anonymise: boolean;
    rpm_low: number;
    rpm_high: number;
  }>(
    `SELECT weights, min_km, window_days, peer_group_by, anonymise, rpm_low, rpm_high
       FROM driver_score_settings WHERE tenant_id = $1`,
    [tenantId],
  );
  const r = rows[0];
  if (!r) return DEFAULT_SETTINGS;
  const weights = { ...DEFAULT_SETTINGS.weights };
  for (const m of METRICS) {
    const w = r.weights[m];
    if (typeof w === 'number' && Number.isFinite(w) && w >= 0) weights[m] = w;
  }
  return {
    weights,
    minKm: r.min_km,
    windowDays: r.window_days,
    peerGroupBy: r.peer_group_by,
    anonymise: r.anonymise,
    rpmLow: r.rpm_low,
    rpmHigh: r.rpm_high,
  };
}

export async function writeScoreSettings(
  db: pg.ClientBase,
  tenantId: string,
  s: ScoreSettings,
  by: string,
): Promise<void> {
  await db.query(
    `INSERT INTO driver_score_settings (tenant_id, weights, min_km, window_days, peer_group_by, anonymise,
                                        rpm_low, rpm_high, updated_by, updated_at)
     VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (tenant_id) DO UPDATE SET weights = EXCLUDED.weights, min_km = EXCLUDED.min_km,
       window_days = EXCLUDED.window_days, peer_group_by = EXCLUDED.peer_group_by,
       anonymise = EXCLUDED.anonymise, rpm_low = EXCLUDED.rpm_low, rpm_high = EXCLUDED.rpm_high,
       updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [
      tenantId,
      JSON.stringify(s.weights),
      s.minKm,
      s.windowDays,
      s.peerGroupBy,
      s.anonymise,
      s.rpmLow,
      s.rpmHigh,
      by,
    ],
  );
}
