import net from 'node:net';

/** The services that run on every developer and CI machine of this kind (environment.md). */
export const REAL_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REAL_MQTT_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

function reachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Fails loudly, with the command that fixes it, when a required service is down. Never skips. */
export async function requireRealServices(): Promise<void> {
  const pg = new URL(REAL_POSTGRES_URL);
  const mqtt = new URL(REAL_MQTT_URL);
  const problems: string[] = [];
  if (!(await reachable(pg.hostname, Number(pg.port || 5432)))) {
    problems.push(
      `PostgreSQL is not reachable at ${pg.host}. Start it: pg_ctlcluster --skip-systemctl-redirect 15 main start`,
    );
  }
  if (!(await reachable(mqtt.hostname, Number(mqtt.port || 1883)))) {
    problems.push(
      `Mosquitto is not reachable at ${mqtt.host}. Start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf`,
    );
  }
  if (problems.length) throw new Error(`required services are down:\n  ${problems.join('\n  ')}`);
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}
