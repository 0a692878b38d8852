import { vehiclesRouter } from './routers/vehicles.ts';
import { createCallerFactory, createRouter } from './trpc.ts';

export const appRouter = createRouter({
  vehicles: vehiclesRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
