/**
 * `fleet-agent provision`: stores this vehicle's MQTT credentials (made in the cloud by
 * `fleet-cloud device provision`) in a root-only file the agent reads at start. The password
 * comes on stdin, never as a flag (flags show in `ps`) and never in a log.
 *
 *   fleet-cloud device provision VAN-17 ... --json | ssh van-17 fleet-agent provision --credentials-file /etc/fleet/mqtt.json
 *   fleet-agent provision --remove --credentials-file /etc/fleet/mqtt.json
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ID_PATTERN } from '@fleet/shared';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';

export const DEFAULT_CREDENTIALS_FILE = '/etc/fleet/mqtt-credentials.json';

const Credentials = z.object({
  username: z.string().regex(ID_PATTERN),
  password: z.string().min(8).max(512),
});
export type MqttCredentials = z.infer<typeof Credentials>;

/** `{"username","password"}` (fleet-cloud --json) or the MQTT_USERNAME= / MQTT_PASSWORD= lines it prints. */
export function parseCredentials(text: string): MqttCredentials {
  const trimmed = text.trim();
  let candidate: unknown;
  if (trimmed.startsWith('{')) {
    try {
      candidate = JSON.parse(trimmed);
    } catch (err) {
      throw new AgentError(
        AgentErrorCode.ConfigInvalid,
        `credentials are not valid JSON: ${(err as Error).message}`,
      );
    }
  } else {
    const kv = Object.fromEntries(
      trimmed
        .split('\n')
        .map((l) => /^(MQTT_USERNAME|MQTT_PASSWORD)=(.*)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
    candidate = { username: kv.MQTT_USERNAME, password: kv.MQTT_PASSWORD };
  }
  const parsed = Credentials.safeParse(candidate);
  if (!parsed.success) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      'expected {"username","password"} or MQTT_USERNAME=/MQTT_PASSWORD= lines on stdin (username a vehicle id, password 8+ characters)',
    );
  }
  return parsed.data;
}

export function readCredentialsFile(file: string): MqttCredentials {
  try {
    return Credentials.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `cannot read MQTT credentials from ${file}: ${(err as Error).message}`,
    );
  }
}

export function writeCredentialsFile(file: string, c: MqttCredentials): void {
  writeFileSync(file, `${JSON.stringify(c)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode on write
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerProvisionCommand(program: Command, io = { out: (l: string) => console.log(l) }) {
  program
    .command('provision')
    .description("store this vehicle's MQTT credentials (read from stdin) where `run` finds them")
    .addOption(
      new Option('--credentials-file <path>', 'where to keep them (mode 600)')
        .env('FLEET_MQTT_CREDENTIALS_FILE')
        .default(DEFAULT_CREDENTIALS_FILE),
    )
    .option('--remove', 'delete the stored credentials (after `fleet-cloud device revoke`)')
    .option('--json', 'one JSON document')
    .action(async (o: { credentialsFile: string; remove?: boolean; json?: boolean }) => {
      if (o.remove) {
        const existed = existsSync(o.credentialsFile);
        rmSync(o.credentialsFile, { force: true });
        io.out(
          o.json
            ? JSON.stringify({ removed: existed, file: o.credentialsFile })
            : `${existed ? 'removed' : 'nothing at'} ${o.credentialsFile}`,
        );
        return;
      }
      const creds = parseCredentials(await readStdin());
      writeCredentialsFile(o.credentialsFile, creds);
      io.out(
        o.json
          ? JSON.stringify({ username: creds.username, file: o.credentialsFile })
          : `stored MQTT credentials for ${creds.username} in ${o.credentialsFile} (mode 600); restart the agent to use them`,
      );
    });
}
