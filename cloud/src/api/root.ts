import { auditRouter } from './routers/audit.ts';
import { authRouter } from './routers/auth.ts';
import { tokensRouter } from './routers/tokens.ts';
import { usersRouter } from './routers/users.ts';
import { vehiclesRouter } from './routers/vehicles.ts';
import { createCallerFactory, createRouter } from './trpc.ts';

export const appRouter = createRouter({
  auth: authRouter,
  vehicles: vehiclesRouter,
  audit: auditRouter,
  tokens: tokensRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
