/**
 * Real servers on loopback for the notification tests: an SMTP server (smtp-server, STARTTLS with
 * a certificate made here, AUTH PLAIN/LOGIN) whose arrivals are parsed with mailparser, and an
 * HTTP receiver that records requests and answers what the test says.
 */
import { execFileSync } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ece from 'http_ece';
import { type ParsedMail, simpleParser } from 'mailparser';
import { createTransport } from 'nodemailer';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import webpush from 'web-push';

/** A self-signed certificate for 127.0.0.1 / localhost (openssl from Debian), made once per process. */
let cert: { key: string; cert: string; caFile: string } | undefined;
export function testCertificate() {
  if (cert) return cert;
  const dir = mkdtempSync(path.join(tmpdir(), 'notify-cert-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = {
    key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    caFile: path.join(dir, 'cert.pem'),
  };
  return cert;
}

export interface Arrival {
  messageId: string;
  mail: ParsedMail;
  rcpt: string[];
  secure: boolean;
  user: string | undefined;
  /** Epoch ms when the server accepted DATA (the 250 goes out right after, unless held). */
  acceptedAt: number;
}

export interface SmtpBehaviour {
  /** Answer DATA with this code instead of 250 (e.g. 451, 550); null: accept. n counts per recipient. */
  reply: (n: number, rcpt: string) => number | null;
  /** Wait this long before answering DATA (the message is already stored). */
  holdMs: number;
}

export async function startSmtpServer(opts: { user?: string; pass?: string } = {}) {
  const { key, cert: certificate } = testCertificate();
  const arrivals: Arrival[] = [];
  const behaviour: SmtpBehaviour = { reply: () => null, holdMs: 0 };
  const user = opts.user ?? 'fleet';
  const pass = opts.pass ?? 'smtp-test-password';
  let count = 0;
  const perRcpt = new Map<string, number>();
  const server = new SMTPServer({
    key,
    cert: certificate,
    authMethods: ['PLAIN', 'LOGIN'],
    // Only after STARTTLS may a client sign in (the production rule).
    allowInsecureAuth: false,
    logger: false,
    disableReverseLookup: true,
    size: 1024 * 1024,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) cb(null, { user: auth.username });
      else cb(new Error('bad credentials'));
    },
    onData(stream: SMTPServerDataStream, session, cb) {
      count++;
      const to = session.envelope.rcptTo[0]?.address ?? '';
      const n = (perRcpt.get(to) ?? 0) + 1;
      perRcpt.set(to, n);
      simpleParser(stream)
        .then(async (mail) => {
          const code = behaviour.reply(n, to);
          if (code === null)
            arrivals.push({
              messageId: mail.messageId ?? '',
              mail,
              rcpt: session.envelope.rcptTo.map((r) => r.address),
              secure: session.secure,
              user: session.user as string | undefined,
              acceptedAt: Date.now(),
            });
          if (behaviour.holdMs > 0) await new Promise((r) => setTimeout(r, behaviour.holdMs));
          if (code === null) cb();
          else
            cb(
              Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), {
                responseCode: code,
              }),
            );
        })
        .catch((err: Error) => cb(err));
    },
  });
  // A client that dies mid-session (a worker SIGKILLed by a test) resets its connection: smtp-server
  // emits that as 'error', which with no listener would be thrown as an uncaught exception in the
  // test process. A real server logs it and serves the next client; this one keeps it.
  const connectionErrors: Error[] = [];
  server.on('error', (err: Error) => connectionErrors.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${user}:${pass}@127.0.0.1:${port}`,
    port,
    arrivals,
    behaviour,
    connectionErrors,
    /** DATA commands seen (accepted or refused). */
    attempts: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  url: string;
}

/** An HTTP receiver: records every request and answers `status(n)` (n counts from 1). */
export async function startHttpReceiver(status: (n: number, req: Received) => number = () => 200) {
  const received: Received[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), url: req.url ?? '' };
      received.push(r);
      res.writeHead(status(++n, r)).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it is true or `timeoutMs` passes (then fails with `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A bare pooled nodemailer client for the test SMTP server (the benchmark's ceiling). */
export function bareSmtpClient(port: number, maxConnections = 4) {
  return createTransport({
    pool: true,
    maxConnections,
    host: '127.0.0.1',
    port,
    requireTLS: true,
    auth: { user: 'fleet', pass: 'smtp-test-password' },
    tls: { ca: testCertificate().cert },
  });
}

/** A VAPID key pair for a test's cloud (FLEET_VAPID_PUBLIC_KEY / FLEET_VAPID_PRIVATE_KEY). */
export const vapidKeys = (): { publicKey: string; privateKey: string } => webpush.generateVAPIDKeys();

/**
 * A push service on loopback for one browser subscription whose keys the test holds: every
 * message that arrives is decrypted (RFC 8291 aes128gcm, http_ece) and kept as text; 201 like a
 * real push service, 400 for what does not decrypt.
 */
export async function startPushEndpoint() {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  const auth = randomBytes(16);
  const got: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const plain = ece.decrypt(Buffer.concat(chunks), {
          version: 'aes128gcm',
          privateKey: keys,
          authSecret: auth.toString('base64url'),
        });
        got.push(plain.toString('utf8'));
        res.writeHead(201).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    /** What the browser's PushSubscription.toJSON() would give for this endpoint. */
    subscription: {
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/push/phone`,
      keys: { p256dh: keys.getPublicKey('base64url'), auth: auth.toString('base64url') },
    },
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
