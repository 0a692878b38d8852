/**
 * The whole system on one machine:
 *
 *   firmware-sim (per vehicle) --pty/socat--> fleet-agent --MQTT--> broker --> cloud (ingest + API)
 *                                                                              |
 *                                        web (Next.js) --/api/trpc proxy--> API <-- PostgreSQL
 *
 * Embedded mode (no URLs given): aedes and PGlite from cloud/src/embedded. Otherwise the given
 * PostgreSQL and MQTT URLs (the production path, and the test run against the local services).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateCommandKeys } from '../../cloud/src/commands/command-key.ts';
import { mosquittoPasswordLine } from '../../cloud/src/devices/broker-auth.ts';
import { AdminApi } from './demo/admin-api.ts';
import { type DemoVehicle, demoVehicle } from './demo/fleet.ts';
import type { HistoryResult } from './demo/history.ts';
import { type DemoSummary, finishDemo, playHistories } from './demo/run.ts';
import { type DemoSignIn, historyWindow, registerDemoFleet } from './demo/seed.ts';
import { freePort, REPO_ROOT, type Supervised, supervise, tsxArgs, waitForHttp } from './processes.ts';
import { createVirtualSerialPair, hasSocat, type VirtualSerialPair } from './virtual-serial.ts';

export interface StackOptions {
  /** [1...200] simulated vehicles, default 3. */
  vehicles?: number;
  tenantId?: string;
  /** Wall-clock ms per simulated second, default 1000 (real time). */
  tickMs?: number;
  /** Stop each vehicle's GPS after this many epochs (tests); default: run forever. */
  epochs?: number;
  /** Working folder for agent databases, ptys, truth files and logs; default `data/stack`. */
  dataDir?: string;
  /** External services; both omitted = embedded aedes + PGlite. */
  databaseUrl?: string;
  mqttUrl?: string;
  databaseSchema?: string;
  baseTopic?: string;
  /** Ports; 0 picks a free one. Defaults: API 4000, web 3000, embedded MQTT 1884, PGlite 5433. */
  apiPort?: number;
  webPort?: number;
  mqttPort?: number;
  pgPort?: number;
  /** Start the Next.js app (already built); default true. */
  web?: boolean;
  /** Keep the PGlite data between runs (embedded only); default in memory. */
  pgliteDir?: string;
  /**
   * How the simulated adapters reach the agents: `pty` (socat virtual serial ports), `tcp` (as a
   * WiFi ELM327 does), or `auto` (pty when socat is installed, else tcp with a notice). Default auto.
   */
  transport?: 'auto' | 'pty' | 'tcp';
  /** More environment for the cloud process (tests: an SMTP server for the notifications). */
  cloudEnv?: Record<string, string>;
  /** Scenario (built-in name or JSON file) of vehicle i, by index; default none (a plain drive). */
  scenarios?: readonly (string | undefined)[];
  /** Print progress lines; default silent. */
  say?: (line: string) => void;
  /**
   * The demo fleet (`npm start`): vehicles, groups, a geofence, a manager and drivers registered
   * through the administration procedures, and a week of each vehicle's history played into its
   * agent's store, backfilled through the real agent and ingest, with the week's fuel-card
   * purchases imported and reconciled, all before the start returns. Default false (tests).
   */
  demo?: boolean;
}

export interface StackVehicle {
  id: string;
  truthFile: string;
  agentDb: string;
  transport: 'pty' | 'tcp';
  /** Stops the vehicle's agent (SIGTERM, a clean stop) and starts it again (remote-command tests). */
  stopAgent(): Promise<void>;
  startAgent(): Promise<void>;
}

export interface Stack {
  mode: 'embedded' | 'external';
  databaseUrl: string;
  mqttUrl: string;
  apiUrl: string;
  webUrl: string | null;
  vehicles: StackVehicle[];
  logDir: string;
  /** The remote-command key pair: the cloud signs with the private half, the agents hold the public. */
  commandKeys: { privateKeyFile: string; publicKeyFile: string };
  /** The tenant's first administrator, created at start (sign in to the dashboard with it). */
  admin: { email: string; password: string };
  /** What the demo start seeded (null unless `demo`). */
  demo: DemoSummary | null;
  stop(): Promise<void>;
}

/**
 * The key that seals tenant secrets on this machine: kept beside a kept database (secrets sealed
 * with it must open at the next start), else new each start like the database itself.
 */
function localSecretKeys(dataDir: string, pgliteDir: string | undefined): string {
  const file = pgliteDir ? `${path.resolve(pgliteDir)}.secret-keys` : path.join(dataDir, 'secret-keys');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const spec = `local1:${randomBytes(32).toString('base64')}`;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${spec}\n`, { mode: 0o600 });
  return spec;
}

export type { DemoSummary };

const portOr = async (p: number | undefined, fallback: number) => (p === 0 ? freePort() : (p ?? fallback));

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const say = options.say ?? (() => {});
  const dataDir = path.resolve(options.dataDir ?? path.join(REPO_ROOT, 'data', 'stack'));
  const logDir = path.join(dataDir, 'logs');
  // Each run starts from an empty working folder: agent databases from an earlier run would
  // carry sequence numbers the (fresh, in-memory) cloud database never saw.
  rmSync(dataDir, { recursive: true, force: true });
  const processes: Supervised[] = [];
  const pairs: VirtualSerialPair[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const p of [...processes].reverse()) await p.stop();
    await Promise.all(pairs.map((pair) => pair.close()));
  };
  const critical = (name: string) => (code: number | null) => {
    if (!stopping) say(`!! ${name} exited unexpectedly (code ${code}); see ${logDir}/${name}.log`);
  };

  try {
    const embedded = !options.databaseUrl && !options.mqttUrl;
    let databaseUrl = options.databaseUrl;
    let mqttUrl = options.mqttUrl;
    const baseTopic = options.baseTopic ?? 'fleet';
    const vehicleIds = Array.from(
      { length: options.vehicles ?? 3 },
      (_, i) => `veh-${String(i + 1).padStart(3, '0')}`,
    );
    // Demo: each vehicle's week is played into its agent's store beside the start of the
    // infrastructure and the cloud (a process per vehicle, two at a time).
    const demoStarted = Date.now();
    const window = historyWindow(demoStarted);
    const demoVehicles: DemoVehicle[] = options.demo ? vehicleIds.map((_, i) => demoVehicle(i)) : [];
    const histories = options.demo
      ? playHistories(demoVehicles, window, dataDir, logDir, processes, say)
      : Promise.resolve([]);
    // Not awaited until needed: a failure must still be seen (and not as an unhandled rejection).
    histories.catch(() => {});

    // Embedded: the broker signs every client in and applies the shipped ACL (as Mosquitto does
    // in production), with a fresh random password per vehicle and for the ingest.
    const mqttUsers = new Map<string, string>(
      embedded ? ['fleet-ingest', ...vehicleIds].map((u) => [u, randomBytes(18).toString('base64url')]) : [],
    );
    const mqttLogin = (user: string): Record<string, string> =>
      mqttUsers.has(user) ? { MQTT_USERNAME: user, MQTT_PASSWORD: mqttUsers.get(user)! } : {};
    // The embedded broker's password file: the cloud's device provisioning edits it too (aedes reads
    // it at every connect, so no reload signal is needed).
    let brokerPasswordFile: string | undefined;
    if (embedded) {
      mkdirSync(dataDir, { recursive: true });
      const passwordFile = path.join(dataDir, 'mqtt-passwd');
      brokerPasswordFile = passwordFile;
      writeFileSync(
        passwordFile,
        [...mqttUsers].map(([u, p]) => `${mosquittoPasswordLine(u, p)}\n`).join(''),
        {
          mode: 0o600,
        },
      );
      const mqttPort = await portOr(options.mqttPort, 1884);
      const pgPort = await portOr(options.pgPort, 5433);
      const [cmd, args] = tsxArgs('cloud/src/embedded/main.ts');
      const infra = supervise('embedded', cmd, args, {
        logDir,
        env: {
          FLEET_MQTT_PORT: String(mqttPort),
          FLEET_PG_PORT: String(pgPort),
          FLEET_PGLITE_DIR: options.pgliteDir ?? '',
          FLEET_MQTT_PASSWORD_FILE: passwordFile,
          FLEET_MQTT_ACL_FILE: path.join(REPO_ROOT, 'docker/mosquitto/acl'),
          FLEET_BASE_TOPIC: baseTopic,
        },
        onExit: critical('embedded'),
      });
      processes.push(infra);
      const ready = await infra.waitFor(/^fleet embedded ready/);
      mqttUrl = /mqtt=(\S+)/.exec(ready)![1]!;
      databaseUrl = /database=(\S+)/.exec(ready)![1]!;
      say(`embedded broker (aedes) ${mqttUrl}, embedded PostgreSQL (PGlite) on 127.0.0.1:${pgPort}`);
    } else if (!databaseUrl || !mqttUrl) {
      throw new Error('give both a database URL and an MQTT URL, or neither (embedded defaults)');
    }

    // Remote commands (issue 18): a fresh signing pair per start, like the broker passwords.
    mkdirSync(dataDir, { recursive: true });
    const commandKeys = generateCommandKeys(
      path.join(dataDir, 'command-key.pem'),
      path.join(dataDir, 'command-key.pub.pem'),
      true,
    );
    const apiPort = await portOr(options.apiPort, 4000);
    const tenantId = options.tenantId ?? 'demo';
    // A fresh random password each start unless one is given: the stack is reachable from this
    // machine only, and the launcher prints it once (never into a log file).
    const admin = {
      email: process.env.FLEET_ADMIN_EMAIL ?? 'admin@fleet.local',
      password: process.env.FLEET_ADMIN_PASSWORD ?? randomBytes(12).toString('base64url'),
    };
    // Chosen before the cloud starts: links in alert e-mails and pushes point at the web app.
    const webPort = (options.web ?? true) ? await portOr(options.webPort, 3000) : null;
    const [cloudCmd, cloudArgs] = tsxArgs('cloud/src/main.ts');
    const cloud = supervise('cloud', cloudCmd, cloudArgs, {
      logDir,
      env: {
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: options.databaseSchema ?? '',
        MQTT_URL: mqttUrl,
        ...mqttLogin('fleet-ingest'),
        FLEET_BASE_TOPIC: baseTopic,
        FLEET_API_PORT: String(apiPort),
        FLEET_BOOTSTRAP_TENANT: tenantId,
        FLEET_BOOTSTRAP_ADMIN_EMAIL: admin.email,
        FLEET_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        FLEET_MQTT_PASSWORD_FILE: brokerPasswordFile ?? '',
        FLEET_COMMAND_KEY_FILE: commandKeys.privateKeyFile,
        ...(webPort !== null ? { FLEET_PUBLIC_URL: `http://127.0.0.1:${webPort}` } : {}),
        // Webhook signing secrets are sealed with it: without it, webhooks cannot be set up.
        ...(process.env.FLEET_SECRET_KEYS
          ? {}
          : { FLEET_SECRET_KEYS: localSecretKeys(dataDir, options.pgliteDir) }),
        ...options.cloudEnv,
      },
      onExit: critical('cloud'),
    });
    processes.push(cloud);
    const apiUrl = /api=(\S+)/.exec(await cloud.waitFor(/^fleet cloud ready/))![1]!;
    say(`cloud ingest + API ${apiUrl}`);

    // The web app starts beside whatever comes next (it needs only the API).
    let webUrl: string | null = null;
    let webReady: Promise<void> = Promise.resolve();
    if (webPort !== null) {
      const nextBin = path.join(REPO_ROOT, 'web', 'node_modules', 'next', 'dist', 'bin', 'next');
      const web = supervise(
        'web',
        process.execPath,
        [nextBin, 'start', '-p', String(webPort), '-H', '127.0.0.1'],
        {
          cwd: path.join(REPO_ROOT, 'web'),
          logDir,
          env: { FLEET_API_URL: apiUrl, NEXT_TELEMETRY_DISABLED: '1' },
          onExit: critical('web'),
        },
      );
      processes.push(web);
      webUrl = `http://127.0.0.1:${webPort}`;
      webReady = waitForHttp(webUrl);
      webReady.catch(() => {});
    }

    let people: DemoSignIn[] = [];
    let registerMs = 0;
    if (options.demo) {
      const t0 = Date.now();
      const api = await AdminApi.signIn(apiUrl, admin.email, admin.password);
      // A database kept from an earlier start (FLEET_PGLITE_DIR, DATABASE_URL) has its fleet
      // already: the demo is a first start's, and is not mixed into someone's vehicles.
      if ((await api.query('registry', 'list', { limit: 1 })).items.length > 0) {
        say('demo fleet: not seeded, this tenant has vehicles already');
        demoVehicles.length = 0;
      } else {
        say(
          'demo fleet: registering vehicles, groups, a geofence, a manager and drivers (administration API)',
        );
        people = await registerDemoFleet(api, AdminApi.anonymous(apiUrl), demoVehicles, window.fromMs);
      }
      registerMs = Date.now() - t0;
    }
    const played: HistoryResult[] = await histories;
    const historyMs = Date.now() - demoStarted;
    if (options.demo && demoVehicles.length === 0) {
      // The weeks played are not this database's: the agents start with empty stores.
      for (const id of vehicleIds) rmSync(path.join(dataDir, id), { recursive: true, force: true });
    }

    const transport = options.transport ?? 'auto';
    const useSocat = transport === 'pty' || (transport === 'auto' && hasSocat());
    if (transport === 'pty' && !hasSocat())
      throw new Error('socat is required for pty transport: apt-get install -y socat');
    if (transport === 'auto' && !useSocat) {
      say(
        'NOTICE: socat is not installed, so vehicles connect over TCP (as a WiFi ELM327 adapter does) instead of ' +
          'virtual serial ports. Install it for serial ports: sudo apt-get install -y socat',
      );
    }
    const vehicles: StackVehicle[] = [];
    await Promise.all(
      vehicleIds.map(async (id, i) => {
        const dir = path.join(dataDir, id);
        mkdirSync(dir, { recursive: true });
        let obdAgent: string;
        let gpsAgent: string;
        let obdSim: string;
        let gpsSim: string;
        if (useSocat) {
          const obd = await createVirtualSerialPair(path.join(dir, 'elm-sim'), path.join(dir, 'elm-host'));
          const gps = await createVirtualSerialPair(path.join(dir, 'gps-sim'), path.join(dir, 'gps-host'));
          pairs.push(obd, gps);
          [obdSim, obdAgent, gpsSim, gpsAgent] = [obd.device, obd.host, gps.device, gps.host];
        } else {
          const [obdPort, gpsPort] = [await freePort(), await freePort()];
          obdSim = obdAgent = `tcp://127.0.0.1:${obdPort}`;
          gpsSim = gpsAgent = `tcp://127.0.0.1:${gpsPort}`;
        }
        let running: Supervised | undefined;
        const vehicle: StackVehicle = {
          id,
          truthFile: path.join(dir, 'truth.jsonl'),
          agentDb: path.join(dir, 'agent.db'),
          transport: useSocat ? 'pty' : 'tcp',
          stopAgent: async () => {
            await running?.stop();
            running = undefined;
          },
          startAgent: async () => {
            if (!running) await startAgent().waitFor(/GPS \(NMEA\) port open/);
          },
        };
        const simArgs = ['vehicle', '--id', id, '--elm', obdSim, '--nmea', gpsSim, '--seed', String(i + 1)];
        simArgs.push('--tick-ms', String(options.tickMs ?? 1000), '--truth', vehicle.truthFile);
        const demo = demoVehicles[i];
        if (demo) {
          // Live, the vehicle goes on as registered, from where its week left its tank.
          simArgs.push('--route', demo.route, '--tank-litres', String(demo.tankLitres));
          simArgs.push('--tank-shape', demo.tankShape.kind === 'cylinder' ? 'cylinder' : 'linear');
          simArgs.push('--initial-fuel-pct', played[i]!.final.fuelPct.toFixed(2));
        }
        if (options.epochs !== undefined) simArgs.push('--epochs', String(options.epochs));
        const scenario = options.scenarios?.[i];
        if (scenario !== undefined) simArgs.push('--scenario', scenario);
        const [simCmd, simArgv] = tsxArgs('firmware-sim/src/main.ts', simArgs);
        const [agentCmd, agentArgv] = tsxArgs('edge-agent/src/main.ts', [
          'run',
          '--tenant',
          tenantId,
          '--vehicle',
          id,
          '--obd-port',
          obdAgent,
          '--gps-nmea',
          gpsAgent,
          '--db',
          vehicle.agentDb,
          '--mqtt-url',
          mqttUrl,
          '--base-topic',
          baseTopic,
          ...(demo ? ['--tank-liters', String(demo.tankLitres)] : []),
        ]);
        const agentEnv = {
          FLEET_FLUSH_INTERVAL_MS: options.tickMs && options.tickMs < 1000 ? '200' : '1000',
          FLEET_COMMAND_PUBLIC_KEY_FILE: commandKeys.publicKeyFile,
          ...mqttLogin(id),
        };
        const startAgent = () => {
          const agent = supervise(`agent-${id}`, agentCmd, agentArgv, { logDir, env: agentEnv });
          processes.push(agent);
          running = agent;
          return agent;
        };
        const startSim = () => {
          const sim = supervise(`sim-${id}`, simCmd, simArgv, { logDir });
          processes.push(sim);
          return sim;
        };
        if (useSocat) {
          // The host side of a pty must be open before the device talks, or epoch 0 is lost.
          const agent = startAgent();
          await agent.waitFor(/GPS \(NMEA\) port open/);
          await startSim().waitFor(/firmware-sim ready/);
        } else {
          // Over TCP the simulator listens (like a WiFi adapter) and the agent connects.
          await startSim().waitFor(/firmware-sim ready/);
          await startAgent().waitFor(/GPS \(NMEA\) port open/);
        }
        vehicles.push(vehicle);
      }),
    );
    vehicles.sort((a, b) => a.id.localeCompare(b.id));
    say(`${vehicles.length} simulated vehicles on ${useSocat ? 'virtual serial ports (socat)' : 'TCP'}`);

    let demo: DemoSummary | null = null;
    if (demoVehicles.length > 0) {
      const t0 = Date.now();
      demo = await finishDemo({
        databaseUrl: databaseUrl!,
        databaseSchema: options.databaseSchema,
        tenantId,
        dataDir,
        window,
        vehicles: demoVehicles,
        played,
        say,
      });
      demo.people = people;
      demo.timings = {
        history: historyMs,
        register: registerMs,
        backfill: Date.now() - t0,
        total: Date.now() - demoStarted,
      };
    }
    await webReady;

    return {
      mode: embedded ? 'embedded' : 'external',
      databaseUrl: databaseUrl!,
      mqttUrl: mqttUrl!,
      apiUrl,
      webUrl,
      vehicles,
      logDir,
      commandKeys,
      admin,
      demo,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
