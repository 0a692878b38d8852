/**
 * Outgoing HTTP to addresses people typed (webhook URLs, browsers' push endpoints) must not reach
 * our own network: loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT,
 * multicast, unspecified. Only an operator's allow-list (FLEET_NOTIFY_ALLOW_ADDRESSES) opens one.
 *
 * Why check inside the socket's `lookup` and not before the request: a name can resolve to a
 * public address when checked and to 127.0.0.1 a moment later (DNS rebinding). The address
 * checked here is the one the socket connects to; an IP literal (no lookup) is checked before.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { CloudError, CloudErrorCode } from '../../errors.ts';

const BLOCKED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'], // multicast and reserved, up to 255.255.255.255
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'], // NAT64 can reach IPv4 private space
];

/** An allow-list entry: an IP address or a CIDR block. */
export function parseAllowEntry(
  entry: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', bits] = entry.trim().split('/');
  const v = isIP(address);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

export class AddressGuard {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  constructor(allow: readonly string[] = []) {
    for (const [a, p, f] of BLOCKED) this.blocked.addSubnet(a, p, f);
    for (const entry of allow) {
      const e = parseAllowEntry(entry);
      if (!e)
        throw new CloudError(CloudErrorCode.ConfigInvalid, `"${entry}" is not an IP address or CIDR block`);
      this.allowed.addSubnet(e.address, e.prefix, e.family);
    }
  }

  /** Null when the address may be connected to, else why not. */
  problem(address: string): string | null {
    const family: 'ipv4' | 'ipv6' = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    // ::ffff:10.0.0.1 is 10.0.0.1.
    const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    const [a, f] = mapped ? [mapped, 'ipv4' as const] : [address, family];
    if (this.allowed.check(a, f)) return null;
    if (this.blocked.check(a, f))
      return `${a} is a private, loopback or link-local address (allow it with FLEET_NOTIFY_ALLOW_ADDRESSES)`;
    return null;
  }

  /** A `lookup` for http(s).request / net.connect that refuses blocked addresses it resolved. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = this.problem(a.address);
        if (why) return callback(refused(hostname, why) as unknown as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };

  /**
   * Checks a URL before it is stored or requested: http(s) only, no credentials, an IP literal
   * checked now; a name is resolved now for a prompt answer (and checked again at connect).
   */
  async checkUrl(raw: string): Promise<string | null> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'is not a URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
    if (url.username || url.password) return 'must not carry a user name or password';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) return this.problem(host);
    return new Promise((resolve) => {
      this.lookup(host, { all: true }, (err) => resolve(err ? errorText(err) : null));
    });
  }
}

function refused(hostname: string, why: string): CloudError {
  return new CloudError(CloudErrorCode.NotificationAddressRefused, `${hostname} resolves to ${why}`);
}

function errorText(err: NodeJS.ErrnoException): string {
  if ((err as unknown) instanceof CloudError) return err.message;
  return err.code === 'ENOTFOUND' ? 'has a host name that does not resolve' : err.message;
}
