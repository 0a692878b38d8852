import { TRPCError } from '@trpc/server';
import { CloudErrorCode, isCloudError } from '../errors.ts';

/** The drivers' programme's refusals (codes 770-789) as the API's answers; anything else rethrown. */
export async function programmeErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isCloudError(err)) {
      const code = (
        {
          [CloudErrorCode.ChallengeInvalid]: 'BAD_REQUEST',
          [CloudErrorCode.ChallengeFrozen]: 'CONFLICT',
          [CloudErrorCode.PointsInsufficient]: 'PRECONDITION_FAILED',
          [CloudErrorCode.RewardUnavailable]: 'CONFLICT',
          [CloudErrorCode.RedemptionDecided]: 'CONFLICT',
        } as Partial<Record<CloudErrorCode, TRPCError['code']>>
      )[err.code];
      if (code) throw new TRPCError({ code, message: `E${err.code}: ${err.message}`, cause: err });
    }
    if ((err as { code?: string }).code === '23505')
      throw new TRPCError({ code: 'CONFLICT', message: 'that name is taken', cause: err });
    throw err;
  }
}
