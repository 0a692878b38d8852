/** The real services checks live with the cloud's integration tests; the e2e tests reuse them. */
import { MQTT_URL, POSTGRES_URL, requireServices } from '../../../cloud/test/support/services.ts';

export const REAL_POSTGRES_URL = POSTGRES_URL;
export const REAL_MQTT_URL = MQTT_URL;

/** Fails loudly, with the command that fixes it, when a required service is down. Never skips. */
export const requireRealServices = () => requireServices({ postgres: true, mqtt: true });

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}
