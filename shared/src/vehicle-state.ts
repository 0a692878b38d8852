import { z } from 'zod';

/** A vehicle's latest known state, as the API returns it to the dashboard. */
export const VehicleState = z.object({
  vehicleId: z.string(),
  tenantId: z.string(),
  /** Epoch ms of the newest sample: late (backfilled) samples never move it backwards. */
  ts: z.number(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  speedKmh: z.number().nullable(),
  rpm: z.number().nullable(),
  fuelLevelPct: z.number().nullable(),
  coolantC: z.number().nullable(),
  online: z.boolean().nullable(),
  /** Epoch ms when the cloud last stored data for this vehicle. */
  receivedAt: z.number(),
});
export type VehicleState = z.infer<typeof VehicleState>;
