/** The store component: the database and one repository per table. */
import { join } from 'node:path';
import { openDatabase, type Db } from './database.js';
import { ApiTokensRepo } from './repos/api-tokens.js';
import { AuditLogRepo } from './repos/audit-log.js';
import { CamerasRepo } from './repos/cameras.js';
import { RefreshTokensRepo } from './repos/refresh-tokens.js';
import { SseEventsRepo, StreamLogsRepo, UrlHistoryRepo } from './repos/relay-log.js';
import { RelayStreamsRepo } from './repos/relay-streams.js';
import { SecretsRepo } from './repos/secrets.js';

/** Opens the database in start(), closes it in stop(). */
export class Store {
  private db: Db | null = null;
  secrets!: SecretsRepo;
  apiTokens!: ApiTokensRepo;
  refreshTokens!: RefreshTokensRepo;
  audit!: AuditLogRepo;
  cameras!: CamerasRepo;
  relayStreams!: RelayStreamsRepo;
  streamLogs!: StreamLogsRepo;
  urlHistory!: UrlHistoryRepo;
  sseEvents!: SseEventsRepo;

  constructor(private readonly dataDir: string) {}

  /** Path of the database file. */
  get file(): string {
    return join(this.dataDir, 'cupola.db');
  }

  /** Opens and migrates; throws StoreError. */
  start(): void {
    const db = openDatabase(this.file);
    this.db = db;
    this.secrets = new SecretsRepo(db);
    this.apiTokens = new ApiTokensRepo(db);
    this.refreshTokens = new RefreshTokensRepo(db);
    this.audit = new AuditLogRepo(db);
    this.cameras = new CamerasRepo(db);
    this.relayStreams = new RelayStreamsRepo(db);
    this.streamLogs = new StreamLogsRepo(db);
    this.urlHistory = new UrlHistoryRepo(db);
    this.sseEvents = new SseEventsRepo(db);
  }

  /** Runs `fn` in one transaction: all its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.handle.transaction(fn)();
  }

  /** The raw handle, for health checks. */
  get handle(): Db {
    if (!this.db) throw new Error('store is not started');
    return this.db;
  }

  /** Closes the database (checkpointing the WAL). */
  stop(): void {
    this.db?.close();
    this.db = null;
  }
}
