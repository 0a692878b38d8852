/**
 * Mosquitto's password file and ACL file, read by the embedded broker (aedes), so the one-command
 * stack enforces exactly what production's Mosquitto does, from the same files
 * (`fleet-cloud device provision` writes the first; docker/mosquitto/acl is the second).
 *
 * Password lines: `user:$7$<iterations>$<salt b64>$<PBKDF2-HMAC-SHA512 64 bytes b64>` (Mosquitto 2).
 * ACL: `user <name>` starts a user's block; `topic [read|write|readwrite] <filter>` applies to that
 * user (or to anonymous users before any `user` line); `pattern [read|write|readwrite] <filter>`
 * applies to everyone, with %u = username and %c = client id. Both are matched like MQTT filters.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Access = 'read' | 'write';

interface Rule {
  access: Access | 'readwrite';
  filter: string;
}

/**
 * The hash half of a password-file line in Mosquitto 2's format (`$7$101$<salt>$<hash>`, what
 * `mosquitto_passwd` writes), without the tool. The devices table keeps exactly this, so the
 * broker's file can be rebuilt from the database and the database holds nothing that signs in.
 */
export function mosquittoPasswordHash(password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A password-file line in Mosquitto 2's format. */
export function mosquittoPasswordLine(username: string, password: string): string {
  return `${username}:${mosquittoPasswordHash(password)}`;
}

/** The hash `username` has in the password file now, or null (no such line, no file). */
export function passwordEntry(passwordFile: string, username: string): string | null {
  let text: string;
  try {
    text = readFileSync(passwordFile, 'utf8'); // read each time: provision/revoke apply at once
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i >= 0 && line.slice(0, i) === username) return line.slice(i + 1).trim();
  }
  return null;
}

export function verifyMosquittoPassword(passwordFile: string, username: string, password: string): boolean {
  const entry = passwordEntry(passwordFile, username);
  return entry !== null && verifyPasswordHash(entry, password);
}

/** `password` against one `$7$...` hash (Mosquitto 2's PBKDF2-SHA512), in constant time. */
export function verifyPasswordHash(entry: string, password: string): boolean {
  const [, version, iterations, salt, hash] = entry.split('$');
  if (version !== '7' || !iterations || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = pbkdf2Sync(
    password,
    Buffer.from(salt, 'base64'),
    Number(iterations),
    expected.length,
    'sha512',
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** MQTT filter matching: `+` one level, `#` the rest (and the parent level itself). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export class MosquittoAcl {
  private readonly anonymous: Rule[] = [];
  private readonly users = new Map<string, Rule[]>();
  private readonly patterns: Rule[] = [];

  constructor(text: string) {
    let current: Rule[] = this.anonymous;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const [kind, ...rest] = line.split(/\s+/);
      if (kind === 'user') {
        const name = rest.join(' ');
        current = this.users.get(name) ?? [];
        this.users.set(name, current);
        continue;
      }
      if (kind !== 'topic' && kind !== 'pattern') continue;
      const [access, filter] = rest.length >= 2 ? rest : ['readwrite', rest[0]];
      if (!filter || !['read', 'write', 'readwrite'].includes(access!)) continue;
      (kind === 'topic' ? current : this.patterns).push({ access: access as Rule['access'], filter });
    }
  }

  static fromFile(file: string): MosquittoAcl {
    return new MosquittoAcl(readFileSync(file, 'utf8'));
  }

  allowed(username: string | undefined, clientId: string, access: Access, topic: string): boolean {
    const grants = (r: Rule) => r.access === 'readwrite' || r.access === access;
    const own = username === undefined ? this.anonymous : (this.users.get(username) ?? []);
    if (own.some((r) => grants(r) && topicMatches(r.filter, topic))) return true;
    return this.patterns.some((r) => {
      if (!grants(r)) return false;
      if (r.filter.includes('%u') && username === undefined) return false;
      const filter = r.filter.replaceAll('%u', username ?? '').replaceAll('%c', clientId);
      return topicMatches(filter, topic);
    });
  }
}
