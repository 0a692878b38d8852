/**
 * E-mail over SMTP with nodemailer: a pooled transport (STARTTLS when the server offers it,
 * required with `requireTLS`; implicit TLS with smtps://; AUTH from the URL's user and password).
 *
 * Every message has Message-ID `<idempotency key@host of From>` and `Fleet-Idempotency-Key`: a
 * delivery resent after a crash (at least once) carries the same id, so a mail system or a
 * counting test sees one message. SMTP 4xx is tried again, 5xx is dead (RFC 5321 §4.2.1).
 */
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import type { Delivery } from '../model.ts';
import { type ChannelSender, withLink } from './channel.ts';

export interface EmailSettings {
  /** smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (TLS). */
  url: string;
  from: string;
  /** Refuse to send unless the server upgrades to TLS (STARTTLS). */
  requireTls: boolean;
  /** PEM CA certificates for a private SMTP server (tests: the self-signed one). */
  ca?: string;
  /** Connections kept open to the server. */
  maxConnections?: number;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function emailHtml(d: Pick<Delivery, 'subject' | 'text' | 'html' | 'link' | 'severity'>): string {
  if (d.html) return d.html;
  const paragraphs = d.text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  const link = d.link ? `<p><a href="${escapeHtml(d.link)}">Open the alert</a></p>` : '';
  return `<!doctype html><html lang="en"><body><h1>${escapeHtml(d.subject)}</h1>\n<p>Severity: ${d.severity}</p>\n${paragraphs}\n${link}</body></html>`;
}

export class EmailSender implements ChannelSender {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;
  private readonly domain: string;

  constructor(private readonly settings: EmailSettings) {
    const url = new URL(settings.url);
    this.transport = createTransport({
      pool: true,
      maxConnections: settings.maxConnections ?? 4,
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
      secure: url.protocol === 'smtps:',
      requireTLS: settings.requireTls,
      ...(url.username
        ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
        : {}),
      tls: settings.ca ? { ca: settings.ca } : {},
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    this.domain = /@([^>\s]+)>?\s*$/.exec(settings.from)?.[1] ?? 'fleet.invalid';
  }

  messageId(key: string): string {
    return `<${key}@${this.domain}>`;
  }

  async send(d: Delivery): Promise<string> {
    return this.sendMessage({
      to: d.target,
      subject: d.subject,
      text: withLink(d.text, d.link),
      html: emailHtml(d),
      idempotencyKey: d.idempotencyKey,
      headers: {
        ...(d.alertId !== null ? { 'Fleet-Alert-Id': String(d.alertId) } : {}),
        ...(d.severity === 'critical' ? { Importance: 'high', 'X-Priority': '1' } : {}),
      },
    });
  }

  /**
   * One message to one address (alerts above; scheduled reports with their attachment, which
   * nodemailer streams from its file). Same Message-ID rule, same error mapping.
   */
  async sendMessage(m: {
    to: string;
    subject: string;
    text: string;
    html?: string;
    idempotencyKey: string;
    headers?: Record<string, string>;
    attachments?: { filename: string; path: string; contentType: string }[];
    /** The Date header (default now): a scheduled report's is its run's time. */
    date?: Date;
  }): Promise<string> {
    try {
      const info = await this.transport.sendMail({
        from: this.settings.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        ...(m.html ? { html: m.html } : {}),
        messageId: this.messageId(m.idempotencyKey),
        ...(m.date ? { date: m.date } : {}),
        headers: { 'Fleet-Idempotency-Key': m.idempotencyKey, ...m.headers },
        ...(m.attachments ? { attachments: m.attachments } : {}),
        // One envelope recipient: an address is never revealed to another.
        envelope: { from: this.settings.from, to: [m.to] },
      });
      return info.response.slice(0, 200);
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; message: string };
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      // The reply code and nodemailer's code only: a server's text may quote the message.
      const detail = e.responseCode
        ? `SMTP ${e.responseCode}`
        : `${e.code ?? 'error'}: ${e.message.slice(0, 120)}`;
      throw new CloudError(
        permanent ? CloudErrorCode.DeliveryPermanent : CloudErrorCode.DeliveryTransient,
        detail,
        {
          cause: err,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
