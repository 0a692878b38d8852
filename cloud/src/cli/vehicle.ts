/**
 * `fleet-cloud vehicle cmd VEHICLE NAME --tenant T [--args JSON] [--wait] [--json]`: a signed
 * remote command for scripts. The CLI signs (FLEET_COMMAND_KEY_FILE), stores and audits it like the
 * API does; the running cloud publishes it at once when the vehicle is online (its 1 s sweep), or
 * when the vehicle comes online, until it expires. `--wait` follows it to its answer.
 *   exit 0: answered ok (or sent, without --wait); 1: refused, failed, unknown, invalid or expired;
 *   2: the command could not be issued (bad name or args, no key, no database, no such vehicle).
 * `fleet-cloud vehicle command-keygen` makes the key pair.
 */
import { AGENT_COMMAND_NAMES, type AgentCommandName } from '@fleet/shared';
import type { Command } from 'commander';
import { generateCommandKeys, readCommandKey } from '../commands/command-key.ts';
import { type CommandView, getCommand, issueCommand } from '../commands/command-store.ts';
import { loadCliConfig } from '../config.ts';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { type CliIo, withPool } from './io.ts';

const FINAL = new Set(['ok', 'failed', 'refused', 'unknown', 'invalid', 'expired']);

function describe(c: CommandView): string {
  const head = `${c.name} ${c.id} on ${c.vehicleId}: ${c.status}`;
  if (c.status === 'ok') return `${head}\n${JSON.stringify(c.result, null, 2)}`;
  if (c.refusal || c.answer) return `${head} (${[c.refusal, c.answer].filter(Boolean).join(': ')})`;
  if (c.status === 'pending')
    return `${head} (waits for the vehicle until ${new Date(c.expiresAt).toISOString()})`;
  return head;
}

export function registerVehicleCommands(program: Command, io: CliIo): void {
  const env = loadCliConfig();
  const vehicle = program
    .command('vehicle')
    .description('one vehicle, remotely: signed commands to its agent');

  vehicle
    .command('cmd <vehicle> <name>')
    .description(
      `send a signed command to the vehicle's agent; NAME is one of ${AGENT_COMMAND_NAMES.filter((n) => n !== 'ping').join(', ')}`,
    )
    .requiredOption('--tenant <id>', "the vehicle's tenant")
    .option('--args <json>', 'the command\'s arguments as JSON, e.g. \'{"pids":[12,13],"seconds":30}\'', '{}')
    .option('--reason <text>', 'why (required for clearDtcs; goes into the audit chain)')
    .option('--ttl <seconds>', 'how long it may wait for an offline vehicle [10...86400]', '600')
    .option('--wait', 'wait for the answer (or the expiry) and print it')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long (the command stays)', '120')
    .option('--key <file>', 'the command signing key (private, PEM)', env.commandKeyFile)
    .option('--actor <who>', 'who sends it, for the audit chain', `cli:${env.operator}`)
    .option('--json', 'one JSON document (the command as stored, with its answer)')
    .addHelpText(
      'after',
      '\nExamples:\n  fleet-cloud vehicle cmd VAN-1 readDtcs --tenant acme --wait\n' +
        '  fleet-cloud vehicle cmd VAN-1 clearDtcs --tenant acme --reason "O2 sensor replaced" --wait\n' +
        '  fleet-cloud vehicle cmd VAN-1 setPollRates --tenant acme --args \'{"cycleDelayMs":500}\'\n' +
        '\nExit status: 0 answered ok (or issued, without --wait), 1 refused/failed/expired, 2 not issued.',
    )
    .action(async (vehicleId: string, name: string, _o, cmd: Command) => {
      const o = { ...program.opts(), ...cmd.opts() } as {
        databaseUrl: string;
        schema?: string;
        tenant: string;
        args: string;
        reason?: string;
        ttl: string;
        wait?: boolean;
        timeout: string;
        key?: string;
        actor: string;
        json?: boolean;
      };
      await withPool(io, o, async (pool) => {
        if (!o.key)
          throw new CloudError(
            CloudErrorCode.CommandKey,
            'no signing key: set FLEET_COMMAND_KEY_FILE or --key',
          );
        if (!(AGENT_COMMAND_NAMES as string[]).includes(name) || name === 'ping')
          throw new CloudError(
            CloudErrorCode.CommandInvalid,
            `no command "${name}" (one of ${AGENT_COMMAND_NAMES.filter((n) => n !== 'ping').join(', ')})`,
          );
        let args: Record<string, unknown>;
        try {
          args = JSON.parse(o.args) as Record<string, unknown>;
        } catch (err) {
          throw new CloudError(
            CloudErrorCode.CommandInvalid,
            `--args is not JSON: ${(err as Error).message}`,
          );
        }
        if (name === 'clearDtcs') args = { reason: o.reason ?? args.reason, ...args };
        const key = readCommandKey(o.key);
        let view = await inTenant(pool, o.tenant, (db) =>
          issueCommand(db, key, {
            tenantId: o.tenant,
            vehicleId,
            name: name as AgentCommandName,
            args,
            issuedBy: o.actor,
            reason: o.reason ?? null,
            ttlSeconds: Number(o.ttl),
          }),
        );
        if (o.wait) {
          const until = Date.now() + Number(o.timeout) * 1000;
          while (!FINAL.has(view.status) && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 250));
            view = (await inTenant(pool, o.tenant, (db) => getCommand(db, o.tenant, view.id))) ?? view;
          }
        }
        io.out(o.json ? JSON.stringify(view) : describe(view));
        return !o.wait || view.status === 'ok' ? 0 : 1;
      });
    });

  vehicle
    .command('command-keygen')
    .description('make the Ed25519 key pair that signs remote commands (vehicles get the public key)')
    .requiredOption(
      '--private-key <file>',
      'where to write the private key (mode 600; FLEET_COMMAND_KEY_FILE)',
    )
    .requiredOption('--public-key <file>', 'where to write the public key (fleet-agent --command-public-key)')
    .option('--force', 'replace an existing private key (every vehicle must then get the new public key)')
    .option('--json', 'one JSON document')
    .action((o: { privateKey: string; publicKey: string; force?: boolean; json?: boolean }) => {
      const r = generateCommandKeys(o.privateKey, o.publicKey, o.force);
      io.out(
        o.json
          ? JSON.stringify(r)
          : `key id ${r.keyId}: private key ${r.privateKeyFile} (mode 600), public key ${r.publicKeyFile}`,
      );
    });
}
