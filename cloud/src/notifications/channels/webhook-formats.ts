/**
 * The JSON a webhook endpoint receives, by its format: our own (`json`, every field and the
 * idempotency key), Slack's and Microsoft Teams' incoming-webhook bodies (text a channel shows).
 */
import type { Delivery } from '../model.ts';

export type WebhookFormat = 'json' | 'slack' | 'teams';

export function webhookBody(format: WebhookFormat, d: Delivery): Record<string, unknown> {
  const line = `[${d.severity.toUpperCase()}] ${d.subject}`;
  if (format === 'slack')
    return {
      text: d.link ? `${line} <${d.link}|Open the alert>` : line,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(line)}*\n${slackEscape(d.text)}` } },
        ...(d.link
          ? [
              {
                type: 'actions',
                elements: [
                  { type: 'button', text: { type: 'plain_text', text: 'Open the alert' }, url: d.link },
                ],
              },
            ]
          : []),
      ],
    };
  if (format === 'teams')
    return {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              { type: 'TextBlock', text: line, weight: 'Bolder', wrap: true },
              { type: 'TextBlock', text: d.text, wrap: true },
            ],
            ...(d.link
              ? { actions: [{ type: 'Action.OpenUrl', title: 'Open the alert', url: d.link }] }
              : {}),
          },
        },
      ],
    };
  return {
    idempotencyKey: d.idempotencyKey,
    kind: d.kind,
    alertId: d.alertId,
    tenantId: d.tenantId,
    severity: d.severity,
    subject: d.subject,
    text: d.text,
    link: d.link,
    data: d.data,
    createdAt: d.createdAt.toISOString(),
  };
}

// Slack's mrkdwn treats &, < and > as control characters.
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
