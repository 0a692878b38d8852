/**
 * Publishing a signed artifact to one vehicle: `{base}/v1/{tenant}/{vehicle}/model`, retained (a
 * vehicle offline now gets it at its next connect) and QoS 1 (resolves on the broker's PUBACK).
 * The file is checked first (a signed, well-formed artifact whose weights match its manifest, and
 * with `publicKey` a signature that verifies) so a broken file is refused here, not on 1,000 vehicles.
 */
import { createHash, type KeyObject, verify } from 'node:crypto';
import {
  ModelArtifact,
  ModelManifest,
  modelSigningText,
  modelVersionLabel,
  vehicleTopic,
} from '@fleet/shared';
import mqtt from 'mqtt';
import { z } from 'zod';
import { CloudError, CloudErrorCode } from '../errors.ts';

function invalid(why: string): CloudError {
  return new CloudError(CloudErrorCode.ModelArtifactInvalid, `not a publishable model artifact: ${why}`);
}

/** The artifact's manifest, if the text is a signed artifact whose weights match it. */
export function checkArtifact(text: string, publicKey?: KeyObject): ModelManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(`not JSON (${(err as Error).message})`);
  }
  const envelope = ModelArtifact.safeParse(json);
  if (!envelope.success) throw invalid(z.prettifyError(envelope.error).replaceAll('\n', ' '));
  if (!envelope.data.signature)
    throw invalid('it is not signed (fleet-cloud model train --signing-key signs it)');
  const manifest = ModelManifest.safeParse(envelope.data.manifest);
  if (!manifest.success) throw invalid(z.prettifyError(manifest.error).replaceAll('\n', ' '));
  const weights = Buffer.from(envelope.data.weights, 'base64');
  if (createHash('sha256').update(weights).digest('hex') !== manifest.data.weights.sha256) {
    throw invalid('the weights do not match the SHA-256 in the manifest');
  }
  if (
    publicKey &&
    !verify(
      null,
      Buffer.from(modelSigningText(envelope.data.manifest), 'utf8'),
      publicKey,
      Buffer.from(envelope.data.signature, 'base64'),
    )
  ) {
    throw invalid('the signature does not verify with the given public key');
  }
  return manifest.data;
}

export interface PublishTarget {
  url: string;
  username?: string;
  password?: string;
  baseTopic?: string;
  tenantId: string;
  vehicleId: string;
  timeoutMs?: number;
}

/** Sends bytes as they are (no check): `publishModel` checks first; tests send broken ones on purpose. */
export async function publishModelPayload(t: PublishTarget, payload: string | Buffer): Promise<string> {
  const topic = vehicleTopic('model', t.tenantId, t.vehicleId, t.baseTopic);
  const client = mqtt.connect(t.url, {
    username: t.username,
    password: t.password,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: t.timeoutMs ?? 10_000,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed')));
    });
    await client.publishAsync(topic, payload, { qos: 1, retain: true });
    return topic;
  } catch (err) {
    throw new CloudError(
      CloudErrorCode.ModelPublishFailed,
      `cannot publish to ${topic}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    await client.endAsync().catch(() => {});
  }
}

export async function publishModel(
  t: PublishTarget,
  text: string,
  publicKey?: KeyObject,
): Promise<{ topic: string; version: string; bytes: number }> {
  const manifest = checkArtifact(text, publicKey);
  if (manifest.vehicleId !== null && manifest.vehicleId !== t.vehicleId) {
    throw invalid(
      `${modelVersionLabel(manifest)} was trained for vehicle ${manifest.vehicleId}, not ${t.vehicleId}`,
    );
  }
  const topic = await publishModelPayload(t, text);
  return { topic, version: modelVersionLabel(manifest), bytes: Buffer.byteLength(text) };
}
