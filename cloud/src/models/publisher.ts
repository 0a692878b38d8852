/**
 * Publishing a signed artifact to one vehicle: `{base}/v1/{tenant}/{vehicle}/model`, retained (a
 * vehicle offline now gets it at its next connect) and QoS 1 (resolves on the broker's PUBACK).
 * The file first passes the check every vehicle makes (shared/src/model-verify.ts: shape,
 * signature with `publicKey` when given, checksum) and must be meant for this vehicle, so a file
 * the fleet would refuse is refused here, not on 1,000 vehicles.
 */

import type { KeyObject } from 'node:crypto';
import { modelVersionLabel, vehicleTopic } from '@fleet/shared';
import { checkModelArtifact } from '@fleet/shared/model-verify';
import mqtt from 'mqtt';
import { CloudError, CloudErrorCode } from '../errors.ts';

function invalid(why: string): CloudError {
  return new CloudError(CloudErrorCode.ModelArtifactInvalid, `not a publishable model artifact: ${why}`);
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
  const check = checkModelArtifact(text, publicKey);
  if (!check.ok) throw invalid(check.reason);
  const { manifest } = check;
  if (manifest.vehicleId !== null && manifest.vehicleId !== t.vehicleId) {
    throw invalid(
      `${modelVersionLabel(manifest)} was trained for vehicle ${manifest.vehicleId}, not ${t.vehicleId}`,
    );
  }
  const topic = await publishModelPayload(t, text);
  return { topic, version: modelVersionLabel(manifest), bytes: Buffer.byteLength(text) };
}
