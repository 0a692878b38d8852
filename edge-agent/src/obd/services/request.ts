import type { SendOptions } from '../elm327/adapter.ts';
import type { EcuMessage } from '../frames/assembler.ts';

export interface ObdRequestOptions extends SendOptions {
  /**
   * Reply-count suffix (ELM327 v1.3+, data sheet "Talking to the vehicle"): [1...15] frames the
   * adapter waits for before printing its prompt, skipping the final ATST wait. Null: no suffix.
   */
  expectedReplies?: number | null;
}

/** One OBD request -> the positive answers of each ECU (what ObdSession provides). */
export interface ObdRequester {
  request(command: string, options?: ObdRequestOptions): Promise<EcuMessage[]>;
}

/** The reply-count digit as sent after the request (`010C` + `1`), empty for none. */
export function replyCountSuffix(replies: number | null | undefined): string {
  return replies && replies >= 1 && replies <= 15 ? replies.toString(16).toUpperCase() : '';
}

export const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');
