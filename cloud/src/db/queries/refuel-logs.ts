/** The drivers' refuel log (migration 000010): row shape and mapping shared by the API's reads. */
export interface RefuelRow {
  id: number;
  client_id: string;
  vehicle_id: string;
  user_id: string;
  ts: Date;
  litres: number;
  amount: string | null;
  currency: string | null;
  fuel_type: string;
  station: string | null;
  odometer_km: number | null;
  note: string | null;
  created_at: Date;
}

export const REFUEL_COLUMNS = `id, client_id, vehicle_id, user_id, ts, litres, amount, currency, fuel_type, station,
  odometer_km, note, created_at`;

export const toRefuel = (r: RefuelRow) => ({
  id: r.id,
  clientId: r.client_id,
  vehicleId: r.vehicle_id,
  userId: r.user_id,
  ts: r.ts.getTime(),
  litres: r.litres,
  // numeric(12, 2) arrives as a string: exact in the database, a number for the client.
  amount: r.amount === null ? null : Number(r.amount),
  currency: r.currency,
  fuelType: r.fuel_type,
  station: r.station,
  odometerKm: r.odometer_km,
  note: r.note,
  createdAt: r.created_at.getTime(),
});
