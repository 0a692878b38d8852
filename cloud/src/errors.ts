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
  // 72x-73x maintenance (service programs, work orders, defect reports)
  /** A program, work order or line that cannot be stored as given (no interval, bad target, a closed order). */
  MaintenanceInvalid = 720,
  /** No such program, work order or vehicle in the tenant. */
  MaintenanceNotFound = 721,
  /** A status change the work order's lifecycle does not allow (done → open, cancelled → done). */
  WorkOrderTransition = 722,
  /** A defect report's idempotency key already used by another driver or vehicle. */
  DefectReportConflict = 723,
  // 750-769 driver scores and disputes
  /** A day that is not YYYY-MM-DD (rescoring, the stored scores). */
  ScoreDayInvalid = 750,
  /** A driver disputed an event that is not theirs to dispute, or one already under review. */
  DisputeRefused = 751,
  /** A decision on a dispute that was already decided. */
  DisputeDecided = 752,
  /** Scoring settings that cannot be used (rpm band upside down, every weight zero). */
  ScoreSettingsInvalid = 753,
  // 770-789 drivers' programme (challenges, points, rewards, badges)
  /** A challenge that cannot be as given (window, time zone, a team challenge's group). */
  ChallengeInvalid = 770,
  /** A challenge that has started (edit) or been finalized (edit, delete): its results are frozen. */
  ChallengeFrozen = 771,
  /** A redemption or debit the driver's points balance cannot pay: nothing is written. */
  PointsInsufficient = 772,
  /** A reward that is retired or out of stock. */
  RewardUnavailable = 773,
  /** A redemption that was already approved or rejected. */
  RedemptionDecided = 774,
  /** A badge dataset that is malformed (says which badge and field). */
  BadgeDatasetInvalid = 775,
  // 790-794 refuel receipt photos (cloud/src/fuel/receipts.ts)
  /** A receipt over the size limit (2 MB), or an empty one. */
  ReceiptTooLarge = 790,
  /** A receipt whose bytes are not a JPEG, PNG or WebP image (checked by magic bytes, not the header). */
  ReceiptTypeRefused = 791,
  /** The SHA-256 the phone sent is not the hash of the bytes that arrived (or is not a SHA-256). */
  ReceiptHashMismatch = 792,
  /** The refuel the receipt belongs to is not in the tenant, or not the uploader's (send the refuel first). */
  ReceiptRefuelUnknown = 793,
  /** The receipt id is used with other bytes, or the refuel already has another receipt. */
  ReceiptConflict = 794,
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
  /** A report schedule or export request that cannot be used (bad zone, recurrence, params). */
  ReportScheduleInvalid = 902,
  /** A download link whose signature does not verify (tampered, another key, malformed). */
  ExportLinkInvalid = 903,
  /** A download link past its expiry. */
  ExportLinkExpired = 904,
  /** A report run that failed to produce or deliver its file (the run record says why). */
  ReportRunFailed = 905,
  /** Scheduled delivery needs what this deployment lacks (SMTP, FLEET_SECRET_KEYS for links). */
  ReportDeliveryUnconfigured = 906,
  // 91x report builder (cost, consumption, saved reports)
  /** An export format the report has no exporter for (PDF exists for IFTA only). */
  ReportExportUnavailable = 910,
  /** A saved report's name is taken in the tenant, or the saved report is not there. */
  SavedReportConflict = 911,
  // 95x observability
  /** The metrics endpoint could not listen (its port is taken): the process runs on without it. */
  MetricsEndpoint = 950,
  // 96x database operations (read replica, backup and restore drill)
  /** The read replica (DATABASE_READ_URL) cannot be reached: lag-tolerant reads fall back to the primary. */
  ReplicaUnreachable = 960,
  /** The backup drill's restored copy differs from the source (row counts) or its audit chain breaks. */
  BackupDrillMismatch = 961,
  /** pg_dump, pg_restore or the drill's own database could not be run or made. */
  BackupDrillFailed = 962,
  // 97x broker cluster (NATS JetStream ingest source)
  /** None of the NATS servers in FLEET_NATS_URLS answered at start (afterwards the client reconnects). */
  NatsUnreachable = 970,
  /** The ingest's JetStream stream or durable consumer could not be created or does not fit. */
  JetStreamSetup = 971,
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
