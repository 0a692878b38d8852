/**
 * One demo vehicle's week in a process of its own (the launcher runs them beside the cloud's
 * start, on the other core): `node --import tsx history-main.ts VEHICLE_INDEX FROM_MS TO_MS
 * AGENT_DB RESULT_FILE`. Writes the HistoryResult as JSON to RESULT_FILE, then prints
 * `demo history done`.
 */
import { writeFileSync } from 'node:fs';
import { demoCalibration, demoVehicle } from './fleet.ts';
import { playHistory } from './history.ts';

const [index, fromMs, toMs, agentDb, resultFile] = process.argv.slice(2);
if (!agentDb || !resultFile) {
  console.error('usage: history-main.ts VEHICLE_INDEX FROM_MS TO_MS AGENT_DB RESULT_FILE');
  process.exit(2);
}
const vehicle = demoVehicle(Number(index));
const started = performance.now();
const result = playHistory({
  vehicle,
  fromMs: Number(fromMs),
  toMs: Number(toMs),
  agentDb,
  calibration: demoCalibration(vehicle).map((p) => [p.pct, p.litres]),
});
writeFileSync(resultFile, JSON.stringify({ ...result, elapsedMs: Math.round(performance.now() - started) }));
console.log(`demo history done ${vehicle.id}`);
