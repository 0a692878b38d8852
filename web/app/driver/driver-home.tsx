'use client';

/**
 * The driver's phone page, one section per file (sections/), its data and actions in
 * use-driver-home.ts. Works offline: every card says how fresh its data is.
 */
import { CheckInCard } from './sections/check-in-card.tsx';
import { DefectReportCard } from './sections/defect-report-card.tsx';
import { FuelCard } from './sections/fuel-card.tsx';
import { OutboxCard } from './sections/outbox-card.tsx';
import { ProgrammeCard } from './sections/programme-card.tsx';
import { RecentRefuelsCard } from './sections/recent-refuels-card.tsx';
import { RefuelForm } from './sections/refuel-form.tsx';
import { ScoreCard } from './sections/score-card.tsx';
import { ScoreExplainCard } from './sections/score-explain-card.tsx';
import { SignOutLine } from './sections/sign-out-line.tsx';
import { StatusLines } from './sections/status-lines.tsx';
import { useDriverHome, useOnline } from './use-driver-home.ts';

export function DriverHome() {
  const online = useOnline();
  const home = useDriverHome();
  return (
    <div className="driver-home">
      <StatusLines
        online={online}
        announcement={home.announcement}
        problem={home.problem}
        me={home.me?.data ?? null}
      />
      {home.me?.data.role === 'driver' ? (
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
      {home.me?.data.role === 'driver' ? <ScoreExplainCard /> : null}
      {home.me?.data.role === 'driver' ? <ProgrammeCard online={online} /> : null}
      <section className="card">
        <RefuelForm onSubmit={home.logRefuel} />
      </section>
      <OutboxCard outbox={home.outbox} onDiscard={home.discard} />
      <DefectReportCard
        who={
          home.me?.data.role === 'driver' && home.me.data.vehicleId
            ? { userId: home.me.data.userId, vehicleId: home.me.data.vehicleId }
            : null
        }
        announce={home.announce}
      />
      <RecentRefuelsCard refuels={home.refuels} online={online} />
      {home.me ? <SignOutLine me={home.me.data} outbox={home.outbox} onSignOut={home.signOut} /> : null}
    </div>
  );
}
