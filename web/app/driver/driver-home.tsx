'use client';

/**
 * The driver's phone page, one section per file (sections/), its data and actions in
 * use-driver-home.ts. Works offline: every card says how fresh its data is. Every string and
 * figure goes through the user's language and units (i18n/, use-preferences.ts).
 */
import { DriverTextContext } from './i18n/driver-text-context.tsx';
import { CheckInCard } from './sections/check-in-card.tsx';
import { DefectReportCard } from './sections/defect-report-card.tsx';
import { FuelCard } from './sections/fuel-card.tsx';
import { OutboxCard } from './sections/outbox-card.tsx';
import { ProgrammeCard } from './sections/programme-card.tsx';
import { RecentRefuelsCard } from './sections/recent-refuels-card.tsx';
import { RefuelForm } from './sections/refuel-form.tsx';
import { ScoreCard } from './sections/score-card.tsx';
import { ScoreExplainCard } from './sections/score-explain-card.tsx';
import { SettingsCard } from './sections/settings-card.tsx';
import { SignOutLine } from './sections/sign-out-line.tsx';
import { StatusLines } from './sections/status-lines.tsx';
import { useDriverHome, useOnline } from './use-driver-home.ts';
import { usePreferences } from './use-preferences.ts';

export function DriverHome() {
  const online = useOnline();
  const { text, preferences, save } = usePreferences(online);
  const home = useDriverHome(text);
  const driver = home.me?.data.role === 'driver';
  return (
    <DriverTextContext.Provider value={text}>
      <h1>{text.t('page.title')}</h1>
      <div className="driver-home">
        <StatusLines
          online={online}
          announcement={home.announcement}
          problem={home.problem}
          me={home.me?.data ?? null}
        />
        {driver && home.me ? (
          <CheckInCard
            currentVehicleId={home.me.data.vehicleId}
            online={online}
            onChanged={home.vehicleChanged}
          />
        ) : null}
        <FuelCard
          vehicle={home.vehicle}
          score={home.score}
          burnHistory={home.burnHistory}
          online={online}
          problem={home.problem}
        />
        <ScoreCard score={home.score} online={online} problem={home.problem} />
        {driver ? <ScoreExplainCard online={online} /> : null}
        {driver ? <ProgrammeCard online={online} /> : null}
        <section className="card">
          <RefuelForm onSubmit={home.logRefuel} />
        </section>
        <OutboxCard outbox={home.outbox} onDiscard={home.discard} />
        <DefectReportCard
          who={
            driver && home.me?.data.vehicleId
              ? { userId: home.me.data.userId, vehicleId: home.me.data.vehicleId }
              : null
          }
          announce={home.announce}
        />
        <RecentRefuelsCard refuels={home.refuels} online={online} />
        {home.me ? <SettingsCard preferences={preferences} online={online} onSave={save} /> : null}
        {home.me ? <SignOutLine me={home.me.data} outbox={home.outbox} onSignOut={home.signOut} /> : null}
      </div>
    </DriverTextContext.Provider>
  );
}
