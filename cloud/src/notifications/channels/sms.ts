/**
 * SMS through a provider's HTTP API, in the shape of Twilio's Messages resource (form-encoded
 * `To`, `From`, `Body`, HTTP Basic with the account id and token), which most providers copy.
 * Off unless FLEET_SMS_URL is set; throttled hardest (FLEET_NOTIFY_SMS_PER_HOUR, default 3).
 */
import type { Delivery } from '../model.ts';
import type { ChannelSender } from './channel.ts';
import { classifyHttp, networkFailure, sendHttp } from './http.ts';

export interface SmsSettings {
  /** The API's base URL, e.g. https://api.twilio.com */
  url: string;
  accountId: string;
  token: string;
  from: string;
}

/** Two segments at most: an SMS is a pointer to the alert, not its report. */
export function smsText(d: Pick<Delivery, 'subject' | 'link'>): string {
  const text = d.link ? `${d.subject} ${d.link}` : d.subject;
  return text.length > 306 ? `${text.slice(0, 305)}…` : text;
}

export class SmsSender implements ChannelSender {
  constructor(private readonly settings: SmsSettings) {}

  async send(d: Delivery): Promise<string> {
    const s = this.settings;
    const body = new URLSearchParams({ To: d.target, From: s.from, Body: smsText(d) }).toString();
    const url = `${s.url.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(s.accountId)}/Messages.json`;
    let status: number;
    try {
      const answer = await sendHttp({
        url,
        // The provider is the operator's configuration, not a user's input.
        guard: null,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          authorization: `Basic ${Buffer.from(`${s.accountId}:${s.token}`).toString('base64')}`,
          'idempotency-key': d.idempotencyKey,
        },
        body,
      });
      status = answer.status;
    } catch (err) {
      throw networkFailure(err, 'SMS provider');
    }
    const failure = classifyHttp(status, 'SMS provider');
    if (failure) throw failure;
    return `HTTP ${status}`;
  }
}
