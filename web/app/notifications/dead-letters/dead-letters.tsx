'use client';
import { useState } from 'react';
import { PageMessages } from '../../../components/page-messages.tsx';
import { formatUtcDateTime } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';

export function DeadLetters() {
  const list = useQuery(null, () => trpc.notifications.deadLetters.query({ limit: 100 }));
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const redeliver = async (id: string, subject: string) => {
    setMessage(null);
    setFailure(null);
    try {
      await trpc.notifications.redeliver.mutate({ id });
      setMessage(`“${subject}” is queued again.`);
      await list.reload();
    } catch (err) {
      setFailure((err as Error).message);
    }
  };
  const error = failure ?? list.error;
  return (
    <>
      <PageMessages message={message} error={error} />
      {list.data && list.data.length === 0 && <p>Every notification was delivered.</p>}
      {list.data && list.data.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption>Undelivered notifications, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Channel</th>
                <th scope="col">Recipient</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Given up</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((d) => (
                <tr key={d.id}>
                  <td>{d.subject}</td>
                  <td>{d.channel}</td>
                  <td>{d.recipient}</td>
                  <td>{d.attempts}</td>
                  <td>{d.lastError ?? '—'}</td>
                  <td>{formatUtcDateTime(d.updatedAt)}</td>
                  <td>
                    <button type="button" onClick={() => redeliver(d.id, d.subject)}>
                      Redeliver<span className="visually-hidden"> “{d.subject}”</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
