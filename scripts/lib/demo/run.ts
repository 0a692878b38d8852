/**
 * The launcher's side of the demo start (scripts/lib/stack.ts with `demo: true`): the history
 * processes before the agents start, and after they started, the fuel-card export, the wait for
 * the backfill and the reconciliation. The steps themselves are in seed.ts and history.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openPool } from '../../../cloud/src/db/pool.ts';
import { reconcileTenant } from '../../../cloud/src/fuel/reconcile.ts';
import { type Supervised, supervise, tsxArgs } from '../processes.ts';
import type { DemoVehicle } from './fleet.ts';
import type { HistoryResult } from './history.ts';
import { type DemoSignIn, demoPurchases, importDemoPurchases, waitForBackfill } from './seed.ts';

/** What the demo start made (Stack.demo): the figures a user reads, and a test checks. */
export interface DemoSummary {
  /** The week played, [from, to) epoch ms. */
  fromMs: number;
  toMs: number;
  /** The demo manager's and drivers' sign-ins (`shown`: printed beside the admin's). */
  people: DemoSignIn[];
  samples: number;
  events: number;
  eventsByType: Record<string, number>;
  purchases: { imported: number; inflated: number; withoutRefuel: number };
  reconciliation: { matched: number; flagged: number; unmatched: number; refuelsWithoutPurchase: number };
  /** Wall time of each step, ms. */
  timings: { history: number; register: number; backfill: number; total: number };
}

/** History processes at once: two cores, and the cloud starting beside them. */
const HISTORY_CONCURRENCY = 2;
/**
 * The backfill of three vehicles' weeks (~180,000 samples) takes 10-20 s on PGlite; a start that
 * has not finished after 5 min, or at 2,000 samples/s for a big FLEET_VEHICLES, is stuck.
 */
const backfillTimeoutMs = (samples: number) => Math.max(5 * 60_000, samples / 2);

const fmt = (n: number) => n.toLocaleString('en');

/** Plays each vehicle's week into `dataDir/<id>/agent.db`, HISTORY_CONCURRENCY processes at a time. */
export async function playHistories(
  vehicles: readonly DemoVehicle[],
  window: { fromMs: number; toMs: number },
  dataDir: string,
  logDir: string,
  processes: Supervised[],
  say: (line: string) => void,
): Promise<HistoryResult[]> {
  say(
    `demo fleet: playing ${vehicles.length} vehicles' last 7 days (${new Date(window.fromMs).toISOString().slice(0, 10)} to ` +
      `${new Date(window.toMs - 1).toISOString().slice(0, 10)}) into their agents' stores`,
  );
  const results: HistoryResult[] = new Array(vehicles.length);
  let next = 0;
  const worker = async () => {
    while (next < vehicles.length) {
      const i = next++;
      const v = vehicles[i]!;
      const dir = path.join(dataDir, v.id);
      const resultFile = path.join(dir, 'history.json');
      const [cmd, args] = tsxArgs('scripts/lib/demo/history-main.ts', [
        String(i),
        String(window.fromMs),
        String(window.toMs),
        path.join(dir, 'agent.db'),
        resultFile,
      ]);
      const exited = new Promise<number | null>((resolve) => {
        const p = supervise(`history-${v.id}`, cmd, args, { logDir, onExit: resolve });
        processes.push(p);
      });
      const code = await exited;
      if (code !== 0)
        throw new Error(`the history of ${v.id} failed (exit ${code}); see ${logDir}/history-${v.id}.log`);
      const r = JSON.parse(readFileSync(resultFile, 'utf8')) as HistoryResult & { elapsedMs: number };
      results[i] = r;
      const found = Object.entries(r.eventsByType)
        .filter(([t]) => ['refuel', 'fuel_drain', 'dtc', 'long_idle', 'speeding'].includes(t))
        .map(([t, n]) => `${n} ${t}`)
        .join(', ');
      say(
        `  ${v.id} (${v.plate}): ${fmt(r.samples)} samples, ${fmt(r.events)} events (${found}) in ${(r.elapsedMs / 1000).toFixed(1)} s`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(HISTORY_CONCURRENCY, vehicles.length) }, worker));
  return results;
}

/** After the agents started: the fuel-card export, the wait for their backfill, the reconciliation. */
export async function finishDemo(o: {
  databaseUrl: string;
  databaseSchema: string | undefined;
  tenantId: string;
  dataDir: string;
  window: { fromMs: number; toMs: number };
  vehicles: readonly DemoVehicle[];
  played: readonly HistoryResult[];
  say: (line: string) => void;
}): Promise<DemoSummary> {
  const pool = await openPool({ url: o.databaseUrl, schema: o.databaseSchema, max: 2 });
  try {
    const purchases = o.vehicles.flatMap((v, i) => demoPurchases(v, o.played[i]!));
    const imported = await importDemoPurchases(
      pool,
      o.tenantId,
      path.join(o.dataDir, 'fuel-card-export.csv'),
      purchases,
    );
    o.say(
      `demo fleet: ${imported.stored} fuel-card purchases imported (the provider's CSV export of the week)`,
    );

    const expected = {
      samples: o.played.reduce((a, r) => a + r.samples, 0),
      events: o.played.reduce((a, r) => a + r.events, 0),
    };
    o.say(
      `demo fleet: the agents are backfilling ${fmt(expected.samples)} samples and ${fmt(expected.events)} events over MQTT`,
    );
    const t0 = Date.now();
    await waitForBackfill(pool, o.tenantId, o.window.toMs, expected, {
      timeoutMs: backfillTimeoutMs(expected.samples),
      progress: (s) =>
        o.say(
          `  ${Math.floor((100 * s.samples) / Math.max(1, expected.samples))} % of the samples, ${fmt(s.events)} events stored`,
        ),
    });
    o.say(`demo fleet: backfill done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const r = await reconcileTenant(pool, o.tenantId);
    o.say(
      `demo fleet: fuel cards reconciled with the detected refuels: ${r.matched} matched, ${r.flagged} flagged, ${r.unmatched} unmatched`,
    );
    const eventsByType: Record<string, number> = {};
    for (const p of o.played)
      for (const [t, n] of Object.entries(p.eventsByType)) eventsByType[t] = (eventsByType[t] ?? 0) + n;
    return {
      fromMs: o.window.fromMs,
      toMs: o.window.toMs,
      people: [],
      ...expected,
      eventsByType,
      purchases: {
        imported: imported.stored,
        inflated: purchases.filter((p) => p.kind === 'inflated').length,
        withoutRefuel: purchases.filter((p) => p.kind === 'no_refuel').length,
      },
      reconciliation: {
        matched: r.matched,
        flagged: r.flagged,
        unmatched: r.unmatched,
        refuelsWithoutPurchase: r.refuelsWithoutPurchase,
      },
      timings: { history: 0, register: 0, backfill: 0, total: 0 },
    };
  } finally {
    await pool.end();
  }
}
