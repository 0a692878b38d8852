import { alertRulesRouter } from './routers/alert-rules.ts';
import { alertsRouter } from './routers/alerts.ts';
import { assignmentsRouter } from './routers/assignments.ts';
import { auditRouter } from './routers/audit.ts';
import { authRouter } from './routers/auth.ts';
import { challengesRouter } from './routers/challenges.ts';
import { commandsRouter } from './routers/commands.ts';
import { devicesRouter } from './routers/devices.ts';
import { driverHomeRouter } from './routers/driver-home.ts';
import { driversRouter } from './routers/drivers.ts';
import { fuelRouter } from './routers/fuel.ts';
import { geofencesRouter } from './routers/geofences.ts';
import { groupsRouter } from './routers/groups.ts';
import { liveRouter } from './routers/live.ts';
import { maintenanceRouter } from './routers/maintenance.ts';
import { notificationsRouter } from './routers/notifications.ts';
import { pointsRouter, rewardsRouter } from './routers/points.ts';
import { refuelsRouter } from './routers/refuels.ts';
import { registryRouter } from './routers/registry.ts';
import { reportSchedulesRouter } from './routers/report-schedules.ts';
import { reportsRouter } from './routers/reports.ts';
import { rosterRouter } from './routers/roster.ts';
import { scoresRouter } from './routers/scores.ts';
import { searchRouter } from './routers/search.ts';
import { telemetryRouter } from './routers/telemetry.ts';
import { tokensRouter } from './routers/tokens.ts';
import { tripsRouter } from './routers/trips.ts';
import { usersRouter } from './routers/users.ts';
import { vehicleHealthRouter } from './routers/vehicle-health.ts';
import { vehiclesRouter } from './routers/vehicles.ts';
import { workOrdersRouter } from './routers/work-orders.ts';
import { createCallerFactory, createRouter } from './trpc.ts';

export const appRouter = createRouter({
  auth: authRouter,
  vehicles: vehiclesRouter,
  audit: auditRouter,
  tokens: tokensRouter,
  users: usersRouter,
  devices: devicesRouter,
  telemetry: telemetryRouter,
  alerts: alertsRouter,
  alertRules: alertRulesRouter,
  geofences: geofencesRouter,
  fuel: fuelRouter,
  drivers: driversRouter,
  driverHome: driverHomeRouter,
  search: searchRouter,
  refuels: refuelsRouter,
  trips: tripsRouter,
  live: liveRouter,
  notifications: notificationsRouter,
  registry: registryRouter,
  groups: groupsRouter,
  assignments: assignmentsRouter,
  roster: rosterRouter,
  reports: reportsRouter,
  scores: scoresRouter,
  maintenance: maintenanceRouter,
  workOrders: workOrdersRouter,
  challenges: challengesRouter,
  points: pointsRouter,
  rewards: rewardsRouter,
  vehicleHealth: vehicleHealthRouter,
  reportSchedules: reportSchedulesRouter,
  commands: commandsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
