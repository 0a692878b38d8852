import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import type { ByteEndpoint } from '../transport/endpoint.ts';
import { openEndpoint } from '../transport/index.ts';
import { createPtyPair, type PtyPair } from '../transport/pty-pair.ts';
import { SimVehicle, type SimVehicleOptions } from '../vehicle/sim-vehicle.ts';

/**
 *   startFleet(N)  --> per vehicle i: DIR/<id>/ with truth.jsonl, labels.jsonl and
 *                        --pty: two socat pairs (elm-sim <-> elm-host, gps-sim <-> gps-host)
 *                        --tcp: two listeners on free ports
 *                      SimVehicle(seed = base + i) on the simulator sides
 *                  --> FleetVehicle: what the host opens (pty host paths or tcp://HOST:PORT)
 *
 * Many vehicles in one process for load tests: each has its own endpoints, timer and files.
 */
export interface FleetOptions {
  /** [1...1000] vehicles. */
  count: number;
  /** Working folder: one sub-folder per vehicle. */
  dir: string;
  transport: 'tcp' | 'pty';
  /** TCP listen address; default 127.0.0.1. */
  host?: string;
  /** Vehicle ids are `${idPrefix}-001`, ...; default "veh". */
  idPrefix?: string;
  /** Vehicle i (from 0) gets seed + i; default 1. */
  seed?: number;
  startTimeMs: number;
  /** Write DIR/<id>/truth.jsonl and labels.jsonl; default true. */
  truth?: boolean;
  labels?: boolean;
  /** Serial rate for --pty endpoints. */
  baudRate?: number;
  /** Everything else each SimVehicle takes (scenario, protocol, tick, epochs, ...). */
  vehicle?: Omit<
    SimVehicleOptions,
    'id' | 'seed' | 'startTimeMs' | 'elm' | 'gps' | 'truthFile' | 'labelsFile'
  >;
}

/** One vehicle as a host sees it. */
export interface FleetVehicle {
  id: string;
  seed: number;
  vin: string;
  /** Host side: a pty path to open, or tcp://HOST:PORT to connect to. */
  elm: string;
  nmea: string;
  truth: string | null;
  labels: string | null;
}

export interface Fleet {
  readonly vehicles: readonly FleetVehicle[];
  readonly sims: readonly SimVehicle[];
  /** Start every vehicle's clock (epoch 0 now). */
  start(): void;
  stop(): Promise<void>;
}

/** How many vehicles are set up at once (socat spawns, port opens). */
const SETUP_CONCURRENCY = 16;

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const log = createLogger('fleet');
  const prefix = options.idPrefix ?? 'veh';
  const baseSeed = options.seed ?? 1;
  const host = options.host ?? '127.0.0.1';
  const width = Math.max(3, String(options.count).length);
  const pairs: PtyPair[] = [];
  const endpoints: ByteEndpoint[] = [];
  const built: { vehicle: FleetVehicle; sim: SimVehicle }[] = [];

  const setUp = async (i: number): Promise<{ vehicle: FleetVehicle; sim: SimVehicle }> => {
    const id = `${prefix}-${String(i + 1).padStart(width, '0')}`;
    const dir = path.join(options.dir, id);
    mkdirSync(dir, { recursive: true });
    let elmDevice: string;
    let gpsDevice: string;
    let elmHost: string;
    let gpsHost: string;
    if (options.transport === 'pty') {
      const elmPair = await createPtyPair(path.join(dir, 'elm-sim'), path.join(dir, 'elm-host'));
      pairs.push(elmPair);
      const gpsPair = await createPtyPair(path.join(dir, 'gps-sim'), path.join(dir, 'gps-host'));
      pairs.push(gpsPair);
      [elmDevice, elmHost, gpsDevice, gpsHost] = [elmPair.device, elmPair.host, gpsPair.device, gpsPair.host];
    } else {
      elmDevice = gpsDevice = `tcp://${host.includes(':') ? `[${host}]` : host}:0`;
      elmHost = gpsHost = '';
    }
    const baud = options.baudRate !== undefined ? { baudRate: options.baudRate } : {};
    const elm = await openEndpoint(elmDevice, {
      logger: createLogger('transport', { vehicle: id, role: 'elm' }),
      ...baud,
    });
    endpoints.push(elm);
    const gps = await openEndpoint(gpsDevice, {
      logger: createLogger('transport', { vehicle: id, role: 'nmea' }),
      ...baud,
    });
    endpoints.push(gps);
    if (options.transport === 'tcp') [elmHost, gpsHost] = [elm.description, gps.description];
    const truth = options.truth === false ? null : path.join(dir, 'truth.jsonl');
    const labels = options.labels === false ? null : path.join(dir, 'labels.jsonl');
    const seed = (baseSeed + i) >>> 0;
    const sim = new SimVehicle({
      ...options.vehicle,
      id,
      seed,
      startTimeMs: options.startTimeMs,
      elm,
      gps,
      ...(truth ? { truthFile: truth } : {}),
      ...(labels ? { labelsFile: labels } : {}),
    });
    sim.listen(); // the adapter answers at once; the clock starts with start()
    return { vehicle: { id, seed, vin: sim.vin, elm: elmHost, nmea: gpsHost, truth, labels }, sim };
  };

  const stop = async (): Promise<void> => {
    for (const { sim } of built) sim.stop();
    await Promise.all(endpoints.map((e) => e.close().catch(() => {})));
    await Promise.all(pairs.map((p) => p.close()));
  };

  try {
    for (let from = 0; from < options.count; from += SETUP_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(SETUP_CONCURRENCY, options.count - from) }, (_, j) =>
        setUp(from + j),
      );
      // Keep what did come up, so a failure still closes every port and socat it opened.
      const results = await Promise.allSettled(batch);
      for (const r of results) if (r.status === 'fulfilled') built.push(r.value);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  built.sort((a, b) => a.vehicle.id.localeCompare(b.vehicle.id));
  log.info({ count: built.length, transport: options.transport, dir: options.dir }, 'fleet set up');

  return {
    vehicles: built.map((b) => b.vehicle),
    sims: built.map((b) => b.sim),
    start() {
      for (const { sim } of built) sim.start();
    },
    stop,
  };
}
