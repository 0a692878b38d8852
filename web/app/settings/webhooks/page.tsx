import type { Metadata } from 'next';
import { WebhookEndpoints } from './webhook-endpoints.tsx';

export const metadata: Metadata = { title: 'Fleet — webhook endpoints' };

export default function WebhooksPage() {
  return (
    <>
      <h1>Webhook endpoints</h1>
      <WebhookEndpoints />
    </>
  );
}
