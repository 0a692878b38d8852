/**
 * `fleet-agent provision`: stores this vehicle's MQTT credentials (made in the cloud by
 * `fleet-cloud device provision`) in a root-only file the agent reads at start. The password
 * comes on stdin, never as a flag (flags show in `ps`) and never in a log.
 *
 *   fleet-cloud device provision VAN-17 ... --json | ssh van-17 fleet-agent provision --credentials-file /etc/fleet/mqtt.json
 *   fleet-agent provision --remove --credentials-file /etc/fleet/mqtt.json
 *
 * With `--model-public-key FILE` it also installs the model publisher's Ed25519 public key (made
 * by `fleet-cloud model keygen`) where `run` and `model` look for it when they are given none:
 * one step sets a vehicle up for signed engine models too.
 */

import type { KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ID_PATTERN } from '@fleet/shared';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { readPublicKey } from '../models/artifact.ts';

export const DEFAULT_CREDENTIALS_FILE = '/etc/fleet/mqtt-credentials.json';
/** Where `provision --model-public-key` installs the key; FLEET_MODEL_KEY_FILE moves it. */
export const DEFAULT_MODEL_KEY_FILE = '/etc/fleet/model-public-key.pem';

/** The installed model key's path (FLEET_MODEL_KEY_FILE or the default). */
export function installedModelKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEET_MODEL_KEY_FILE || DEFAULT_MODEL_KEY_FILE;
}

/**
 * The model public key to use: the one given (--model-public-key / FLEET_MODEL_PUBLIC_KEY), else
 * the one `provision` installed, if there is one; else none (models stay off).
 */
export function resolveModelKeyFile(given: string | undefined, env: NodeJS.ProcessEnv = process.env) {
  if (given) return given;
  const installed = installedModelKeyFile(env);
  return existsSync(installed) ? installed : undefined;
}

/** Checks `source` is an Ed25519 public key and writes it (PEM, world-readable: it is public) to `dest`. */
export function installModelKey(source: string, dest: string): KeyObject {
  const key = readPublicKey(source);
  try {
    writeFileSync(dest, key.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  } catch (err) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `cannot install the model public key at ${dest}: ${(err as Error).message}`,
    );
  }
  return key;
}

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
    .option(
      '--model-public-key <file>',
      "also install the model publisher's Ed25519 public key (from `fleet-cloud model keygen`) where `run` finds it",
    )
    .addOption(
      new Option('--model-key-file <path>', 'where to install that key')
        .env('FLEET_MODEL_KEY_FILE')
        .default(DEFAULT_MODEL_KEY_FILE),
    )
    .option('--json', 'one JSON document')
    .action(
      async (o: {
        credentialsFile: string;
        remove?: boolean;
        modelPublicKey?: string;
        modelKeyFile: string;
        json?: boolean;
      }) => {
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
        // The key first: a bad key file must not leave half a provisioning behind.
        if (o.modelPublicKey) installModelKey(o.modelPublicKey, o.modelKeyFile);
        writeCredentialsFile(o.credentialsFile, creds);
        const modelKeyFile = o.modelPublicKey ? o.modelKeyFile : null;
        io.out(
          o.json
            ? JSON.stringify({ username: creds.username, file: o.credentialsFile, modelKeyFile })
            : `stored MQTT credentials for ${creds.username} in ${o.credentialsFile} (mode 600)` +
                (modelKeyFile ? `, the model public key in ${modelKeyFile}` : '') +
                '; restart the agent to use them',
        );
      },
    );
}
