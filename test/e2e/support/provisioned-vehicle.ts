/**
 * A vehicle installed the way a technician does it: a firmware-sim vehicle (the ECU and GPS) and a
 * real `fleet-agent run` started with nothing but the credentials the dashboard showed once
 * (`KEY=value` lines: vehicle, tenant, broker URL, base topic, MQTT login) plus where its adapter
 * and store are. Over socat ptys when socat is installed, else over TCP (as a WiFi ELM327).
 *
 *   firmware-sim --pty/tcp--> fleet-agent (env = the shown credentials) --MQTT--> the stack's broker
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, type Supervised, supervise, tsxArgs } from '../../../scripts/lib/processes.ts';
import {
  createVirtualSerialPair,
  hasSocat,
  type VirtualSerialPair,
} from '../../../scripts/lib/virtual-serial.ts';

/** What the dashboard's credentials block must hold for the agent to start on it alone. */
const CREDENTIAL_KEYS = [
  'FLEET_VEHICLE_ID',
  'FLEET_TENANT_ID',
  'MQTT_URL',
  'FLEET_BASE_TOPIC',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
] as const;

/** The shown `KEY=value` lines as an environment; a missing or unexpected key is an error. */
export function credentialsEnvironment(shown: string): Record<(typeof CREDENTIAL_KEYS)[number], string> {
  const env: Record<string, string> = {};
  for (const line of shown.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    if (eq <= 0 || !(CREDENTIAL_KEYS as readonly string[]).includes(key))
      throw new Error(`unexpected line in the credentials shown: ${JSON.stringify(line)}`);
    env[key] = line.slice(eq + 1);
  }
  const missing = CREDENTIAL_KEYS.filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`the credentials shown lack ${missing.join(', ')}`);
  return env as Record<(typeof CREDENTIAL_KEYS)[number], string>;
}

export interface ProvisionedVehicle {
  vehicleId: string;
  transport: 'pty' | 'tcp';
  agent: Supervised;
  /** Resolves when the broker let the agent in with the shown credentials (rejects after 60 s). */
  connected: Promise<unknown>;
  stop(): Promise<void>;
}

export async function startProvisionedVehicle(opts: {
  /** The credentials block exactly as the page showed it. */
  credentials: string;
  /** Working folder (ptys, agent database, truth file); logs go to `logDir`. */
  dir: string;
  logDir: string;
  /** Wall-clock ms per simulated second, default 1000. */
  tickMs?: number;
}): Promise<ProvisionedVehicle> {
  const credentials = credentialsEnvironment(opts.credentials);
  const vehicleId = credentials.FLEET_VEHICLE_ID;
  mkdirSync(opts.dir, { recursive: true });
  const processes: Supervised[] = [];
  const pairs: VirtualSerialPair[] = [];
  const stop = async () => {
    for (const p of [...processes].reverse()) await p.stop();
    await Promise.all(pairs.map((p) => p.close()));
  };
  try {
    const pty = hasSocat();
    let obd: [sim: string, agent: string];
    let gps: [sim: string, agent: string];
    if (pty) {
      const o = await createVirtualSerialPair(
        path.join(opts.dir, 'elm-sim'),
        path.join(opts.dir, 'elm-host'),
      );
      const g = await createVirtualSerialPair(
        path.join(opts.dir, 'gps-sim'),
        path.join(opts.dir, 'gps-host'),
      );
      pairs.push(o, g);
      [obd, gps] = [
        [o.device, o.host],
        [g.device, g.host],
      ];
    } else {
      const [o, g] = [`tcp://127.0.0.1:${await freePort()}`, `tcp://127.0.0.1:${await freePort()}`];
      [obd, gps] = [
        [o, o],
        [g, g],
      ];
    }
    const [simCmd, simArgs] = tsxArgs('firmware-sim/src/main.ts', [
      'vehicle',
      '--id',
      vehicleId,
      '--elm',
      obd[0],
      '--nmea',
      gps[0],
      '--tick-ms',
      String(opts.tickMs ?? 1000),
      '--truth',
      path.join(opts.dir, 'truth.jsonl'),
    ]);
    // Nothing on the command line: the agent runs on the shown credentials and three locations.
    const [agentCmd, agentArgs] = tsxArgs('edge-agent/src/main.ts', ['run']);
    const agentEnv = {
      ...credentials,
      FLEET_OBD_PORT: obd[1],
      FLEET_GPS_NMEA: gps[1],
      FLEET_AGENT_DB: path.join(opts.dir, 'agent.db'),
      FLEET_FLUSH_INTERVAL_MS: '500',
    };
    const startSim = () => {
      const sim = supervise(`sim-${vehicleId}`, simCmd, simArgs, { logDir: opts.logDir });
      processes.push(sim);
      return sim.waitFor(/firmware-sim ready/);
    };
    let connected: Promise<unknown> = Promise.resolve();
    const startAgent = () => {
      const agent = supervise(`agent-${vehicleId}`, agentCmd, agentArgs, {
        logDir: opts.logDir,
        env: agentEnv,
      });
      processes.push(agent);
      // Listening from the first line: the connection may come before the ports are open.
      connected = agent.waitFor(/connected to broker/, 60_000);
      connected.catch(() => {});
      return agent;
    };
    let agent: Supervised;
    if (pty) {
      // The host side of a pty must be open before the device talks, or epoch 0 is lost.
      agent = startAgent();
      await agent.waitFor(/GPS \(NMEA\) port open/);
      await startSim();
    } else {
      // Over TCP the simulator listens (like a WiFi adapter) and the agent connects.
      await startSim();
      agent = startAgent();
      await agent.waitFor(/GPS \(NMEA\) port open/);
    }
    return { vehicleId, transport: pty ? 'pty' : 'tcp', agent, connected, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
