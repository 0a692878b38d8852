/**
 * A fuel-card purchase as the cloud accepts it, from the signed webhook (webhook-inbox.ts) or a
 * CSV export (csv-import.ts): one schema for both, so a purchase means the same whichever way it
 * came in. Field names follow the card providers' exports (WEX/Fleetcor: card, driver, odometer).
 *
 *   externalId  the provider's transaction id: the idempotency key per (tenant, source)
 *   ts          ISO 8601 with an offset or Z, or epoch ms (a local time without offset is refused:
 *               the matching window is minutes, a guessed time zone would move it by hours)
 *   litres | gallons (US, converted; exactly one of the two)
 *   amount, currency (ISO 4217), fuelType, station, lat/lon (the station), cardId,
 *   vehicleId (the card's vehicle; absent: the card is not assigned), driverId, odometerKm
 */
import { ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';

export const LITRES_PER_US_GALLON = 3.785411784;

/** Epoch ms from ISO 8601 (with an offset) or an integer of epoch ms; null when neither. */
export function parseTimestamp(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  const s = value.trim();
  if (/^\d{12,14}$/.test(s)) return Number(s);
  // Require a zone: "2026-11-02 08:15" alone would be read in the server's zone.
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(s)) return null;
  const ms = Date.parse(s.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'contains U+0000');

export const FuelCardTransaction = z
  .object({
    externalId: text(128).pipe(z.string().min(1)),
    ts: z.union([z.string(), z.number()]).transform((v, ctx) => {
      const ms = parseTimestamp(v);
      if (ms === null || ms < 946_684_800_000 || ms > 4_102_444_800_000) {
        ctx.addIssue({
          code: 'custom',
          message: 'ts must be ISO 8601 with a zone (2026-11-02T08:15:00Z) or epoch ms, 2000-2100',
        });
        return z.NEVER;
      }
      return ms;
    }),
    litres: z.number().positive().max(10_000).optional(),
    gallons: z.number().positive().max(2_600).optional(),
    amount: z.number().min(0).max(1e9).optional(),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as EUR')
      .transform((c) => c.toUpperCase())
      .optional(),
    fuelType: text(32).optional(),
    station: text(200).optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    cardId: text(64).optional(),
    vehicleId: z.string().regex(ID_PATTERN, 'a vehicle id (letters, digits, - and _)').optional(),
    driverId: text(64).optional(),
    odometerKm: z.number().min(0).max(10_000_000).optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.litres === undefined) === (t.gallons === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['litres'], message: 'give exactly one of litres or gallons' });
    }
    if ((t.lat === undefined) !== (t.lon === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['lat'], message: 'give both lat and lon, or neither' });
    }
  })
  .transform(({ gallons, ...t }) => ({
    ...t,
    litres: t.litres ?? Math.round(gallons! * LITRES_PER_US_GALLON * 1000) / 1000,
  }));
export type FuelCardTransaction = z.output<typeof FuelCardTransaction>;

/** The webhook body: one purchase, or `{ "transactions": [...] }` (up to 1,000). */
export const FuelCardWebhookBody = z.union([
  z.object({ transactions: z.array(z.unknown()).min(1).max(1000) }),
  z.record(z.string(), z.unknown()).transform((one) => ({ transactions: [one] as unknown[] })),
]);

export type ParsedTransaction = { ok: true; tx: FuelCardTransaction } | { ok: false; reason: string };

export function parseTransaction(value: unknown): ParsedTransaction {
  const r = FuelCardTransaction.safeParse(value);
  if (r.success) return { ok: true, tx: r.data };
  return { ok: false, reason: z.prettifyError(r.error).replaceAll('\n', '; ') };
}
