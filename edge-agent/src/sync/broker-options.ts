import { readFileSync } from 'node:fs';
import type mqtt from 'mqtt';

/** How the agent reaches its broker: the same for the telemetry, events and model connections. */
export interface BrokerConnection {
  url: string;
  vehicleId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** TLS: the broker's CA, and this vehicle's client certificate and key (PEM files). */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Default `fleet-agent-{vehicleId}`; each connection adds its own suffix. */
  clientId?: string | undefined;
  reconnectPeriodMs?: number | undefined;
  keepaliveSec?: number | undefined;
}

/**
 * mqtt.js options for one of the agent's connections. `suffix` keeps the connections' client
 * ids apart ('' for telemetry, '-events', '-models'); `defaults` are that connection's reconnect
 * period and keepalive when the settings leave them out. TLS files are read at every call, so a
 * renewed certificate is used at the next start.
 */
export function brokerClientOptions(
  o: BrokerConnection,
  suffix: string,
  defaults: { reconnectPeriodMs: number; keepaliveSec: number },
): mqtt.IClientOptions {
  return {
    clientId: `${o.clientId ?? `fleet-agent-${o.vehicleId}`}${suffix}`,
    username: o.username,
    password: o.password,
    ca: o.caFile ? readFileSync(o.caFile) : undefined,
    cert: o.certFile ? readFileSync(o.certFile) : undefined,
    key: o.keyFile ? readFileSync(o.keyFile) : undefined,
    reconnectPeriod: o.reconnectPeriodMs ?? defaults.reconnectPeriodMs,
    keepalive: o.keepaliveSec ?? defaults.keepaliveSec,
    connectTimeout: 10_000,
  };
}
