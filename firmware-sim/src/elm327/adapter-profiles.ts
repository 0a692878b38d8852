/**
 * How an adapter's firmware treats the two speed-ups of service 01 (ELM327 data sheet, "Talking
 * to the Vehicle" and "Multiple PID Requests"): several PIDs in one request (J1979 allows up to
 * six on ISO 15765-4) and the reply-count digit (`010C1`, v1.3+). The genuine chip takes both;
 * clones sold as "v1.5" differ, as reported from the field (issue 14, python-OBD's reason for
 * never sending multi-PID requests):
 *
 *   standard             both taken (the ELM327 v1.5 data sheet)
 *   multi-pid-refused    `?` to a request of two or more PIDs
 *   multi-pid-no-data    `NO DATA` (after the timeout) to a request of two or more PIDs
 *   first-pid-only       only the request's first PID answered: a valid, shorter answer
 *   reply-count-refused  `?` to any request with the reply-count digit (`010C1`)
 */
export const ADAPTER_PROFILES = [
  'standard',
  'multi-pid-refused',
  'multi-pid-no-data',
  'first-pid-only',
  'reply-count-refused',
] as const;

export type AdapterProfileName = (typeof ADAPTER_PROFILES)[number];

export interface AdapterProfile {
  /** A service 01 request of 2-6 PIDs: answered in full, refused with `?` or `NO DATA`, or cut to its first PID. */
  multiPid: 'answer' | '?' | 'NO DATA' | 'first-pid';
  /** Whether the trailing reply-count digit is understood; otherwise the line is `?`. */
  replyCount: boolean;
}

export const ADAPTER_PROFILE_BEHAVIOUR: Readonly<Record<AdapterProfileName, AdapterProfile>> = {
  standard: { multiPid: 'answer', replyCount: true },
  'multi-pid-refused': { multiPid: '?', replyCount: true },
  'multi-pid-no-data': { multiPid: 'NO DATA', replyCount: true },
  'first-pid-only': { multiPid: 'first-pid', replyCount: true },
  'reply-count-refused': { multiPid: 'answer', replyCount: false },
};
