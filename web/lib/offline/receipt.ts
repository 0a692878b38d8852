/**
 * A refuel's receipt photo, made ready on the phone before it goes into the outbox (queue.ts):
 *
 *   camera / file --createImageBitmap--> canvas, longest side <= 1600 px --JPEG q 0.7--> Blob
 *                 --SHA-256 (WebCrypto)--> the outbox entry, beside the refuel
 *
 * A phone camera's 3-12 MB photo becomes ~100-300 kB: cheap to keep offline for days and to send
 * on a weak signal, still readable (a receipt's small print survives 1600 px). The hash is the
 * cloud's check that the bytes it got are the bytes taken (cloud/src/fuel/receipts.ts).
 */

/** Longest side after compression: a till receipt stays legible, the file stays small. */
export const RECEIPT_MAX_SIDE = 1600;
export const RECEIPT_QUALITY = 0.7;
/** The cloud's limit (2 MB); the JPEG is re-encoded at lower quality until it fits well under it. */
const RECEIPT_TARGET_BYTES = 1.8 * 1024 * 1024;

export interface QueuedReceipt {
  /** The receipt's idempotency key, made when the photo was queued (the cloud keeps one row per key). */
  id: string;
  blob: Blob;
  /** Hex SHA-256 of `blob`. */
  sha256: string;
  /** Size of the photo as taken, for "3.4 MB → 210 kB". */
  originalBytes: number;
  width: number;
  height: number;
}

export class ReceiptUnreadable extends Error {
  override name = 'ReceiptUnreadable';
}

export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The fitted size: the longest side at most `maxSide`, never enlarged. */
export function fittedSize(width: number, height: number, maxSide = RECEIPT_MAX_SIDE) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function encodeJpeg(
  bitmap: ImageBitmap,
  width: number,
  height: number,
  quality: number,
): Promise<Blob | null> {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    // JPEG has no transparency: white, like paper, rather than black behind a transparent PNG.
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: 'image/jpeg', quality });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/** The photo as a compressed JPEG with its hash and a new receipt id; ReceiptUnreadable if it is no image. */
export async function prepareReceipt(file: Blob): Promise<QueuedReceipt> {
  let bitmap: ImageBitmap;
  try {
    // EXIF orientation applied: a portrait photo of a receipt stays upright.
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (error) {
    throw new ReceiptUnreadable('not an image this browser can read', { cause: error });
  }
  try {
    const { width, height } = fittedSize(bitmap.width, bitmap.height);
    let blob: Blob | null = null;
    for (let quality = RECEIPT_QUALITY; quality >= 0.3; quality -= 0.15) {
      blob = await encodeJpeg(bitmap, width, height, quality);
      if (!blob || blob.size <= RECEIPT_TARGET_BYTES) break;
    }
    if (!blob) throw new ReceiptUnreadable('this browser cannot encode JPEG');
    return {
      id: crypto.randomUUID(),
      blob,
      sha256: await sha256Hex(blob),
      originalBytes: file.size,
      width,
      height,
    };
  } finally {
    bitmap.close();
  }
}
