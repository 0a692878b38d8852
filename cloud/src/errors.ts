/**
 * The cloud's one error type. Codes are grouped in ranges per subsystem (zwave-js style) so a log
 * line or an alert can be routed by its number alone.
 */
export enum CloudErrorCode {
  // 1xx configuration
  ConfigInvalid = 100,
  // 2xx database
  DatabaseUnreachable = 200,
  MigrationFailed = 201,
  // 3xx broker / ingest
  BrokerUnreachable = 300,
  PayloadRejected = 301,
  // 4xx API
  ApiNotFound = 400,
  // 5xx identity and devices
  DeviceCredentials = 500,
  SecretKeys = 501,
  SecretUnreadable = 502,
  /** No such vehicle in the tenant (a device is provisioned for an existing vehicle). */
  DeviceUnknownVehicle = 503,
  /** The vehicle already has an active device: rotate it, or revoke it first. */
  DeviceExists = 504,
  /** Rotate or revoke of a vehicle without an active device. */
  DeviceNotActive = 505,
  /** This cloud process was not given the broker's password file (FLEET_MQTT_PASSWORD_FILE). */
  BrokerLoginsUnconfigured = 506,
  /** The name is a service's broker login (the ingest's), never a device's. */
  DeviceNameReserved = 507,
  // 6xx models (training, signing, publishing)
  /** Not enough usable rows, an unreadable source, a network that does not converge. */
  ModelTraining = 600,
  /** The signing key is missing, unreadable or not Ed25519. */
  ModelSigningKey = 601,
  /** An artifact file that is not a signed, well-formed artifact (refused before publishing). */
  ModelArtifactInvalid = 602,
  /** The broker did not take the artifact. */
  ModelPublishFailed = 603,
  // 70x remote commands to vehicles (cloud/src/commands)
  /** The command signing key (FLEET_COMMAND_KEY_FILE) is missing, unreadable or not Ed25519. */
  CommandKey = 700,
  /** This process sends no commands (no signing key, or its broker link is not up). */
  CommandsUnavailable = 701,
  /** A command, or its arguments, that the vehicle's agent would not accept (bad args, no reason). */
  CommandInvalid = 702,
  /** No such command (id) in the tenant, or no such vehicle. */
  CommandNotFound = 703,
  /** The broker did not take the command (it stays waiting and is sent at the vehicle's next connect). */
  CommandPublishFailed = 704,
  // 8xx notifications (e-mail, webhooks, push, SMS)
  /** An item the caller asked to enqueue is malformed (a bad address, CR/LF in a header): nothing queued. */
  NotificationInvalid = 800,
  /** A webhook URL that resolves to a private, loopback or link-local address not on the allow-list. */
  NotificationAddressRefused = 801,
  /** A send that failed and may succeed later (SMTP 4xx, HTTP 5xx/429, a refused connection). */
  DeliveryTransient = 802,
  /** A send that will never succeed as it is (SMTP 5xx, HTTP 4xx, a gone push subscription). */
  DeliveryPermanent = 803,
  /** A channel the deployment did not configure (no SMTP server, no VAPID keys, no SMS provider). */
  ChannelNotConfigured = 804,
  // 90x reports (IFTA, carbon)
  /** A boundary file, rate matrix or factor dataset that cannot be used (says which line / feature). */
  ReportInputInvalid = 900,
  /** A report asked for something the data cannot answer (no rates for the quarter, no such dataset). */
  ReportDataMissing = 901,
  // 95x observability
  /** The metrics endpoint could not listen (its port is taken): the process runs on without it. */
  MetricsEndpoint = 950,
}

export class CloudError extends Error {
  override name = 'CloudError';
  /** Input errors: what is wrong with each field (`items.0.recipient.address` → why), for forms. */
  readonly fields: Readonly<Record<string, string>> | undefined;
  constructor(
    readonly code: CloudErrorCode,
    message: string,
    options?: { cause?: unknown; fields?: Record<string, string> },
  ) {
    super(message, options);
    this.fields = options?.fields;
  }
}

export function isCloudError(err: unknown, code?: CloudErrorCode): err is CloudError {
  return err instanceof CloudError && (code === undefined || err.code === code);
}
