/**
 * `fleet-agent provision` through the real CLI (bin/fleet-agent.js in a child process, the
 * credentials on stdin as a technician pipes them): the MQTT credentials file, and with
 * --model-public-key the model publisher's key installed where `run` and `model` find it.
 */
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveModelKeyFile } from '../src/cli/provision.ts';

const AGENT = join(import.meta.dirname, '../bin/fleet-agent.js');
const dir = mkdtempSync(join(tmpdir(), 'fleet-provision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function provision(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AGENT, 'provision', ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', FLEET_MODEL_KEY_FILE: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const CREDS = JSON.stringify({ username: 'VAN-17', password: 'a-long-enough-password' });

describe('fleet-agent provision', () => {
  it('stores the credentials and installs the model public key in one step; run/model then find the key', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const source = join(dir, 'publisher.pem');
    writeFileSync(source, publicKey.export({ type: 'spki', format: 'pem' }));
    const credentialsFile = join(dir, 'mqtt.json');
    const installed = join(dir, 'installed', 'model-public-key.pem');
    rmSync(join(dir, 'installed'), { recursive: true, force: true });
    // The destination folder must exist (as /etc/fleet does on a provisioned vehicle).
    const r0 = await provision(
      [
        '--credentials-file',
        credentialsFile,
        '--model-public-key',
        source,
        '--model-key-file',
        installed,
        '--json',
      ],
      CREDS,
    );
    expect(r0.code, r0.stderr).not.toBe(0); // no such folder: said, not crashed
    expect(r0.stderr).toMatch(/cannot install the model public key at .*model-public-key\.pem: ENOENT/);
    expect(existsSync(credentialsFile), 'nothing half-done after a failed key install').toBe(false);

    const into = join(dir, 'model-public-key.pem');
    const r = await provision(
      [
        '--credentials-file',
        credentialsFile,
        '--model-public-key',
        source,
        '--model-key-file',
        into,
        '--json',
      ],
      CREDS,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ username: 'VAN-17', file: credentialsFile, modelKeyFile: into });
    expect(JSON.parse(readFileSync(credentialsFile, 'utf8'))).toEqual(JSON.parse(CREDS));
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    expect(createPublicKey(readFileSync(into)).equals(publicKey)).toBe(true);

    // What run and `model verify|install` use: the given key first, else the installed one.
    expect(resolveModelKeyFile(undefined, { FLEET_MODEL_KEY_FILE: into })).toBe(into);
    expect(resolveModelKeyFile('/given.pem', { FLEET_MODEL_KEY_FILE: into })).toBe('/given.pem');
    expect(resolveModelKeyFile(undefined, { FLEET_MODEL_KEY_FILE: join(dir, 'none.pem') })).toBeUndefined();
  });

  it('refuses a key that is not Ed25519, with the reason, and stores nothing', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(rsa, publicKey.export({ type: 'spki', format: 'pem' }));
    const credentialsFile = join(dir, 'mqtt-rsa.json');
    const r = await provision(
      [
        '--credentials-file',
        credentialsFile,
        '--model-public-key',
        rsa,
        '--model-key-file',
        join(dir, 'k.pem'),
      ],
      CREDS,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rsa key; model artifacts are signed with Ed25519/);
    expect(existsSync(credentialsFile)).toBe(false);
    expect(existsSync(join(dir, 'k.pem'))).toBe(false);
  });
});
