/**
 * Child process for the power-cut test: appends samples and acknowledges them in a loop until
 * it is killed. Prints "ready" once the first write committed.
 */
import { AgentDb } from '../../src/store/agent-db.ts';

const store = new AgentDb(process.argv[2]!, { diskBudgetBytes: 2 * 1024 ** 2, budgetCheckEvery: 50 });
let i = store.stats().lastSeq;
let announced = false;
for (;;) {
  const seq = store.samples.append({
    ts: 1_714_550_400_000 + i * 1000,
    lat: 48,
    lon: 11,
    speedKmh: i % 100,
    rpm: 800,
    fuelLevelPct: 50,
    coolantC: 90,
  });
  i++;
  if (i % 7 === 0) store.samples.acknowledgeRange(Math.max(1, seq - 20), seq - 3);
  if (i % 11 === 0) store.events.append({ type: 'tick', startTs: i, payload: { i } });
  if (!announced) {
    announced = true;
    process.stdout.write('ready\n');
  }
}
