/**
 * A 3-node NATS JetStream cluster on loopback, made of Debian's `nats-server` (the issue says:
 * existing distributed engines, never a home-made cluster). Each node has a client port (the
 * cloud's ingest workers), a route port (the cluster), an MQTT listener (the vehicles) and a
 * monitoring port (readiness: /jsz names the meta leader), all free ports picked at start and kept
 * across restarts, so a node killed with SIGKILL comes back where its peers and clients expect it.
 * JetStream store dirs live under one temp dir, removed by `stop()`.
 *
 * NATS speaks MQTT 3.1.1 only (no MQTT 5, no shared subscriptions): agents fall back to 3.1.1
 * by themselves (broker-link.ts 'auto'), and the cloud reads through JetStream instead
 * (cloud/src/ingest/jetstream-client.ts). MQTT topic a/b/c is NATS subject a.b.c.
 *
 *   node --import tsx scripts/lib/nats-cluster.ts     starts one, prints its URLs, Ctrl-C stops it
 *
 * Never touches the NATS that already runs on this machine at 127.0.0.1:4222: every port here is
 * one the OS handed out as free.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, type Supervised, supervise } from './processes.ts';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface NatsNode {
  name: string;
  clientPort: number;
  routePort: number;
  mqttPort: number;
  httpPort: number;
  /** Running process, or undefined while killed. */
  proc: Supervised | undefined;
}

export interface NatsCluster {
  nodes: NatsNode[];
  dir: string;
  /** nats://127.0.0.1:port of every node: the ingest workers' server list. */
  natsUrls: string[];
  /** mqtt://127.0.0.1:port of every node: the agents' broker list (FLEET_MQTT_URLS). */
  mqttUrls: string[];
  /** SIGKILL: no goodbye to peers or clients, JetStream files left as a crash leaves them. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again with the same config and store, waits for a meta leader. */
  restart(index: number): Promise<void>;
  /** Resolves once a JetStream meta leader is known to the given nodes (all running ones by default). */
  waitForMetaLeader(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

function nodeConfig(node: NatsNode, peers: NatsNode[], dir: string, debug: boolean): string {
  const routes = peers.filter((p) => p !== node).map((p) => `nats-route://127.0.0.1:${p.routePort}`);
  return `server_name: ${node.name}
${debug ? 'debug: true\n' : ''}listen: 127.0.0.1:${node.clientPort}
http: 127.0.0.1:${node.httpPort}
jetstream {
  store_dir: "${path.join(dir, node.name)}"
  max_memory_store: 64MB
  max_file_store: 4GB
}
cluster {
  name: fleet
  listen: 127.0.0.1:${node.routePort}
  routes: [${routes.join(', ')}]
}
mqtt {
  listen: 127.0.0.1:${node.mqttPort}
  # Sessions, retained messages and QoS 1 deliveries of MQTT clients on all three nodes: an
  # agent that fails over to another node finds its session (subscriptions) there.
  stream_replicas: 3
  # How long a QoS 1 delivery to an agent waits for its PUBACK before the server resends it.
  ack_wait: "10s"
}
`;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

export async function startNatsCluster(
  opts: { size?: number; logDir?: string; debug?: boolean } = {},
): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-nats-'));
  const logDir = opts.logDir ?? path.join(dir, 'logs');
  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    nodes.push({
      name: `n${i + 1}`,
      clientPort: await freePort(),
      routePort: await freePort(),
      mqttPort: await freePort(),
      httpPort: await freePort(),
      proc: undefined,
    });
  }
  for (const n of nodes) {
    mkdirSync(path.join(dir, n.name), { recursive: true });
    writeFileSync(
      path.join(dir, `${n.name}.conf`),
      nodeConfig(n, nodes, dir, opts.debug ?? process.env.NATS_DEBUG === '1'),
    );
  }
  const launch = (n: NatsNode) => {
    n.proc = supervise(n.name, NATS_SERVER, ['-c', path.join(dir, `${n.name}.conf`)], { logDir });
  };

  const metaLeaderOf = async (n: NatsNode): Promise<string | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${n.httpPort}/jsz`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return undefined;
      const jsz = (await res.json()) as Jsz;
      return jsz.meta_cluster?.leader || undefined;
    } catch {
      return undefined;
    }
  };

  const cluster: NatsCluster = {
    nodes,
    dir,
    natsUrls: nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`),
    mqttUrls: nodes.map((n) => `mqtt://127.0.0.1:${n.mqttPort}`),
    async waitForMetaLeader(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let seen: (string | undefined)[] = [];
      while (Date.now() < deadline) {
        const running = nodes.filter((n) => n.proc);
        seen = await Promise.all(running.map(metaLeaderOf));
        // Every running node agrees on one leader: a restarted node has rejoined the meta group.
        if (seen.length > 0 && seen[0] && seen.every((l) => l === seen[0])) return seen[0];
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(
        `NATS cluster in ${dir}: no agreed JetStream meta leader after ${timeoutMs} ms (seen ${JSON.stringify(seen)}; logs in ${logDir})`,
      );
    },
    async kill(index) {
      const n = nodes[index]!;
      const proc = n.proc;
      if (!proc) return;
      n.proc = undefined;
      const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
      proc.child.kill('SIGKILL');
      await exited;
    },
    async restart(index) {
      const n = nodes[index]!;
      if (n.proc) throw new Error(`${n.name} is running`);
      launch(n);
      await n.proc!.waitFor(/Server is ready/, 30_000);
      await cluster.waitForMetaLeader();
    },
    async stop() {
      await Promise.all(
        nodes.map(async (n) => {
          const proc = n.proc;
          n.proc = undefined;
          await proc?.stop();
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const n of nodes) launch(n);
    await Promise.all(nodes.map((n) => n.proc!.waitFor(/Server is ready/, 30_000)));
    await cluster.waitForMetaLeader();
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
  return cluster;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cluster = await startNatsCluster({ logDir: process.env.NATS_LOG_DIR });
  const leader = await cluster.waitForMetaLeader();
  console.log(
    JSON.stringify({
      leader,
      nats: cluster.natsUrls.join(','),
      mqtt: cluster.mqttUrls.join(','),
      dir: cluster.dir,
    }),
  );
  console.log(`FLEET_INGEST_SOURCE=jetstream FLEET_NATS_URLS=${cluster.natsUrls.join(',')}`);
  console.log(`FLEET_MQTT_URLS=${cluster.mqttUrls.join(',')}`);
  const stop = () => void cluster.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
