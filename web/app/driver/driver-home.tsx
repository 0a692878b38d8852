'use client';

/**
 * The driver's phone page, one section per file (sections/), its data and actions in
 * use-driver-home.ts. Works offline: every card says how fresh its data is. Every string and
 * figure goes through the user's language and units (i18n/, use-preferences.ts).
 *
 * Cheap on a phone's main thread (Lighthouse mobile, issue 19):
 * - the cards' data is one read (driverHome.get, preloaded by the HTML) rendered in one
 *   transition, not a dozen answers each rendered in a long task of its own;
 * - every card is memoised and gets stable props (one object per answer), so a render of the page
 *   for anything else (the outbox, an announcement) re-renders only the card it is for;
 * - no card is a Suspense boundary of its own: Next hydrates the page in a transition, which React
 *   renders in slices that yield to the browser anyway, and an answer that reaches a card still
 *   dehydrated in its own boundary made React hydrate that card at once, in one long task each;
 * - what the page sets when it mounts (online or not, the browser's language, the form's clock)
 *   is set in a transition too, or not at all when it is what the server rendered.
 * And still (layout shift): the cards that only a driver has are there from the first paint, in
 * their loading shape, not inserted above the others once auth.me answers.
 */
import { memo, useMemo, useRef } from 'react';
import type { RefuelDraft } from '../../lib/offline/queue.ts';
import type { QueuedReceipt } from '../../lib/offline/receipt.ts';
import { DriverTextContext } from './i18n/driver-text-context.tsx';
import type { DriverText } from './i18n/i18n.ts';
import { CheckInCard as CheckIn } from './sections/check-in-card.tsx';
import { DefectReportCard as DefectReport } from './sections/defect-report-card.tsx';
import { FuelCard as Fuel } from './sections/fuel-card.tsx';
import { NotificationsCard as Notifications } from './sections/notifications-card.tsx';
import { OutboxCard as Outbox } from './sections/outbox-card.tsx';
import { ProgrammeCard as Programme } from './sections/programme-card.tsx';
import { RecentRefuelsCard as RecentRefuels } from './sections/recent-refuels-card.tsx';
import { RefuelForm } from './sections/refuel-form.tsx';
import { ScoreCard as Score } from './sections/score-card.tsx';
import { ScoreExplainCard as ScoreExplain } from './sections/score-explain-card.tsx';
import { SettingsCard as Settings } from './sections/settings-card.tsx';
import { SignOutLine as SignOut } from './sections/sign-out-line.tsx';
import { StatusLines as Status } from './sections/status-lines.tsx';
import { useDriverHome, useOnline } from './use-driver-home.ts';
import { usePreferences } from './use-preferences.ts';

const StatusLines = memo(Status);
const CheckInCard = memo(CheckIn);
const FuelCard = memo(Fuel);
const ScoreCard = memo(Score);
const ScoreExplainCard = memo(ScoreExplain);
const ProgrammeCard = memo(Programme);
const OutboxCard = memo(Outbox);
const DefectReportCard = memo(DefectReport);
const RecentRefuelsCard = memo(RecentRefuels);
const SettingsCard = memo(Settings);
const NotificationsCard = memo(Notifications);
const SignOutLine = memo(SignOut);
const RefuelCard = memo(function RefuelCard({
  onSubmit,
}: {
  onSubmit: (draft: RefuelDraft, receipt: QueuedReceipt | null) => Promise<void>;
}) {
  return (
    <section className="card">
      <RefuelForm onSubmit={onSubmit} />
    </section>
  );
});

export function DriverHome() {
  const online = useOnline();
  // The text of the moment, for what the page says later (set below, once the preferences are known).
  const textRef = useRef<DriverText>(null as unknown as DriverText);
  const home = useDriverHome(textRef);
  const { text, preferences, save } = usePreferences(home.preferences, home.reload);
  textRef.current = text;
  const me = home.me;
  const cards = home.cards;
  // Until the home read answers, this page is assumed to be a driver's (it is the driver's page):
  // their cards show in their loading shape. Someone else (a manager) loses them then.
  const driver = me ? me.role === 'driver' : home.problem === null;
  const userId = me?.userId ?? null;
  const vehicleId = me?.vehicleId ?? null;
  const who = useMemo(
    () => (driver && userId && vehicleId ? { userId, vehicleId } : null),
    [driver, userId, vehicleId],
  );
  return (
    <DriverTextContext.Provider value={text}>
      <h1>{text.t('page.title')}</h1>
      <div className="driver-home">
        <StatusLines online={online} announcement={home.announcement} problem={home.problem} me={me} />
        {driver ? (
          <CheckInCard
            currentVehicleId={me ? me.vehicleId : undefined}
            listed={cards ? cards.vehicles : undefined}
            online={online}
            onChanged={home.vehicleChanged}
          />
        ) : null}
        <FuelCard
          vehicle={cards?.vehicle ?? null}
          score={cards?.score ?? null}
          burnHistory={cards?.burnHistory ?? null}
          online={online}
          problem={home.problem}
        />
        <ScoreCard score={cards?.score ?? null} online={online} problem={home.problem} />
        {driver ? (
          <ScoreExplainCard
            score={cards?.fairScore ?? null}
            explain={cards?.explain ?? null}
            disputes={cards?.disputes ?? null}
            online={online}
            onFiled={home.reload}
          />
        ) : null}
        {driver ? (
          <ProgrammeCard programme={cards?.programme ?? null} online={online} onRedeemed={home.reload} />
        ) : null}
        <RefuelCard onSubmit={home.logRefuel} />
        <OutboxCard outbox={home.outbox} onDiscard={home.discard} />
        <DefectReportCard who={who} announce={home.announce} />
        <RecentRefuelsCard refuels={cards?.refuels ?? null} online={online} />
        {me || driver ? <SettingsCard preferences={preferences} online={online} onSave={save} /> : null}
        {driver ? <NotificationsCard push={cards ? cards.push : undefined} online={online} /> : null}
        {me ? <SignOutLine me={me} outbox={home.outbox} onSignOut={home.signOut} /> : null}
      </div>
    </DriverTextContext.Provider>
  );
}
