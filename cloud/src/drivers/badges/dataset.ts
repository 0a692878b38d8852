/**
 * Badge thresholds and score-band points as data (badges.v1.json), validated once at load: a bad
 * file stops the process with the badge and field named, instead of silently awarding nothing.
 * Versioned: every award row keeps the version it was made under (driver_badges.dataset_version).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CloudError, CloudErrorCode } from '../../errors.ts';

export const BADGE_METRICS = ['km', 'harshPer100Km', 'speedingEvents', 'idleMinPer100Km', 'score'] as const;
export type BadgeMetric = (typeof BADGE_METRICS)[number];

const BadgeDefinition = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,60}$/),
  title: z.string().min(1).max(120),
  metric: z.enum(BADGE_METRICS),
  op: z.enum(['<', '<=', '==', '>=', '>']),
  threshold: z.number().finite(),
  minKm: z.number().min(0),
  points: z.number().int().min(0).max(100_000),
});
export type BadgeDefinition = z.infer<typeof BadgeDefinition>;

const BadgeDataset = z.object({
  version: z.number().int().positive(),
  description: z.string().optional(),
  badges: z
    .array(BadgeDefinition)
    .min(1)
    .refine((b) => new Set(b.map((x) => x.id)).size === b.length, 'badge ids must be unique'),
  /** Points for a score in a band (highest band whose `min` the score reaches), per scored period. */
  scoreBands: z.array(
    z.object({ min: z.number().min(0).max(100), points: z.number().int().min(1).max(100_000) }),
  ),
});
export type BadgeDataset = z.infer<typeof BadgeDataset>;

export function parseBadgeDataset(json: unknown, source: string): BadgeDataset {
  const parsed = BadgeDataset.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new CloudError(
      CloudErrorCode.BadgeDatasetInvalid,
      `${source}: ${first.path.join('.') || '(root)'}: ${first.message}`,
    );
  }
  return parsed.data;
}

export const BADGE_DATASET_FILE = path.join(import.meta.dirname, 'badges.v1.json');
export const BADGE_DATASET: BadgeDataset = parseBadgeDataset(
  JSON.parse(readFileSync(BADGE_DATASET_FILE, 'utf8')),
  BADGE_DATASET_FILE,
);

/** What a badge is judged on: a driver's stats over the period (db/queries/driver-scores.ts). */
export interface BadgeInputs {
  km: number;
  harshEvents: number;
  speedingEvents: number;
  idleMinutes: number;
  score: number | null;
}

function metricOf(m: BadgeMetric, s: BadgeInputs): number | null {
  const per100 = (n: number) => (s.km > 0 ? (n * 100) / s.km : null);
  switch (m) {
    case 'km':
      return s.km;
    case 'harshPer100Km':
      return per100(s.harshEvents);
    case 'speedingEvents':
      return s.speedingEvents;
    case 'idleMinPer100Km':
      return per100(s.idleMinutes);
    case 'score':
      return s.score;
  }
}

function holds(v: number, op: BadgeDefinition['op'], threshold: number): boolean {
  if (op === '<') return v < threshold;
  if (op === '<=') return v <= threshold;
  if (op === '==') return v === threshold;
  if (op === '>=') return v >= threshold;
  return v > threshold;
}

/** The ids of the badges `s` earns under `dataset`, in the dataset's order. */
export function badgesEarned(s: BadgeInputs, dataset: BadgeDataset = BADGE_DATASET): string[] {
  return dataset.badges
    .filter((b) => {
      if (s.km < b.minKm) return false;
      const v = metricOf(b.metric, s);
      return v !== null && holds(v, b.op, b.threshold);
    })
    .map((b) => b.id);
}

/** Points for a 0-100 score: the highest band it reaches, or 0. */
export function scoreBandPoints(score: number, dataset: BadgeDataset = BADGE_DATASET): number {
  const band = [...dataset.scoreBands].sort((a, b) => b.min - a.min).find((b) => score >= b.min);
  return band?.points ?? 0;
}
