/**
 * Reports finance and compliance file (issue 17 §3-§4): the IFTA quarterly return from the kept
 * distance records, and the carbon report (named dataset and GWP set). Both read what
 * `reports/` computed and stored; the exports (XLSX, CSV, PDF) are `fleet-cloud reports` today.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { loadCarbonReport } from '../../reports/carbon/carbon-service.ts';
import { loadIftaReturn } from '../../reports/ifta/ifta-report.ts';
import { lastClosedQuarter, parseQuarter, QUARTER_PATTERN } from '../../reports/quarter.ts';
import { EpochMs, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const read = authedProcedure.meta({ permission: 'reports:read' });
export const CARBON_MAX_DAYS = 400;

/** A report's input the data cannot answer (no such dataset or GWP set): the caller's to fix. */
function asApiError(err: unknown): never {
  if (
    isCloudError(err) &&
    (err.code === CloudErrorCode.ReportDataMissing || err.code === CloudErrorCode.ReportInputInvalid)
  )
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  if (err instanceof RangeError)
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  throw err;
}

export const reportsRouter = createRouter({
  /** The IFTA return of a quarter (default: the last one ended), with its data-quality findings. */
  iftaReturn: read
    .input(z.object({ quarter: z.string().regex(QUARTER_PATTERN).optional() }).default({}))
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        loadIftaReturn(
          db,
          ctx.session.tenantId,
          input.quarter ? parseQuarter(input.quarter) : lastClosedQuarter(Date.now()),
        ).catch(asApiError),
      ),
    ),

  /** CO2, CH4, N2O and CO2e per vehicle, group and month over [from, to). */
  carbon: read
    .input(
      z
        .object({
          from: EpochMs,
          to: EpochMs,
          dataset: z
            .string()
            .regex(/^[a-z0-9-]{3,60}$/)
            .optional(),
          gwp: z.enum(['AR4', 'AR5']).optional(),
        })
        .superRefine(rangeCheck(CARBON_MAX_DAYS)),
    )
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        loadCarbonReport(db, ctx.session.tenantId, input, { dataset: input.dataset, gwp: input.gwp }).catch(
          asApiError,
        ),
      ),
    ),
});
