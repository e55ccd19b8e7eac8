/**
 * MySQL connections: the mysql2 connection options, opening and setting up a connection (the server's flavor and
 * version are learned from the first handshake), acquire, release with the reset it needs, interrupt and close.
 */
import type * as Mysql2 from "mysql2";
import { DatabaseConnectionError, OperationCancelledError, type SQLSpecError } from "../../core/errors.js";
import { quoteIdent } from "../../core/identifiers.js";
import type { AcquireOptions, PoolStats } from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { ConnectionPool } from "../../driver/pool.js";
import { QueryKiller } from "./cancel.js";
import { type MysqlServer, parseServerVersion } from "./catalog.js";
import { timeZoneOffset } from "./codecs.js";
import type { MysqlDriverFeatures, MysqlPoolConfig } from "./config.js";
import { MysqlConnection, run, STATUS_AUTOCOMMIT, STATUS_IN_TRANS } from "./connection.js";
import { isFatalMysqlError, mapMysqlError } from "./errors.js";
import { brokenError, kill, settleCancel, text } from "./running.js";

type Mysql2Module = typeof Mysql2;

/** The pool of mysql2 connections and everything about a connection's life in it. */
export class MysqlConnections {
  readonly pool: ConnectionPool<MysqlConnection>;
  /** KILL QUERY from a separate connection, opened with the pool's options. */
  readonly killer = new QueryKiller(() => this.#openClient());

  readonly #mysql2: Mysql2Module;
  readonly #config: MysqlPoolConfig;
  readonly #features: ResolvedDriverFeatures<Mysql2.Connection>;
  readonly #connectionOptions: Mysql2.ConnectionOptions;
  /** Learned from the first handshake. */
  #server: MysqlServer | undefined;
  readonly #setupSql: (server: MysqlServer) => string;

  constructor(
    mysql2: Mysql2Module,
    p: MysqlPoolConfig,
    features: ResolvedDriverFeatures<Mysql2.Connection>,
    m: Required<Pick<MysqlDriverFeatures, "int8" | "timestamps">>,
    statementCacheSize: number,
  ) {
    this.#mysql2 = mysql2;
    this.#config = p;
    this.#features = features;
    const zone = timeZoneOffset(p.timezone ?? "UTC");
    const options: Mysql2.ConnectionOptions = {
      ...(p.connectionString !== undefined ? { uri: p.connectionString } : {}),
      charset: p.charset ?? "utf8mb4",
      timezone: zone === "+00:00" ? "Z" : zone,
      connectTimeout: p.connectTimeoutMs ?? 10_000,
      supportBigNumbers: true,
      bigNumberStrings: m.int8 !== "number",
      dateStrings: m.timestamps === "string",
      decimalNumbers: false,
      jsonStrings: true,
      multipleStatements: false,
      namedPlaceholders: false,
      maxPreparedStatements: Math.max(1, statementCacheSize),
      // affectedRows is what the server changed: an UPDATE counts changed rows, ON DUPLICATE KEY UPDATE counts 1 per
      // inserted row, 2 per updated and 0 per unchanged one (mysql2 asks for found rows by default).
      flags: ["-FOUND_ROWS"],
    };
    if (p.host !== undefined) options.host = p.host;
    if (p.port !== undefined) options.port = p.port;
    if (p.user !== undefined) options.user = p.user;
    if (p.password !== undefined) options.password = p.password;
    if (p.database !== undefined) options.database = p.database;
    if (p.ssl !== undefined && p.ssl !== false) options.ssl = (p.ssl === true ? {} : p.ssl) as Mysql2.SslOptions;
    this.#connectionOptions = options;
    this.#setupSql = (server) => {
      // session_track_state_change: the server flags every OK packet after any change to session state (a SET of any
      // variable, a user variable, a temporary table, USE): resetOnRelease "auto" resets exactly those connections.
      let sql = `SET time_zone = '${zone}', session_track_state_change = ON`;
      const t = p.statementTimeoutMs;
      if (t !== undefined && t > 0) {
        // MariaDB: max_statement_time (seconds, any statement); MySQL: max_execution_time (ms, SELECT only).
        sql +=
          server.flavor === "mariadb" ? `, max_statement_time = ${t / 1000}` : `, max_execution_time = ${Math.ceil(t)}`;
      }
      return sql;
    };
    this.pool = new ConnectionPool<MysqlConnection>({
      create: () => this.#connect(),
      maxSize: p.maxSize ?? 10,
      minSize: p.minSize ?? 0,
      acquireTimeoutMs: p.acquireTimeoutMs,
      idleTimeoutMs: p.idleTimeoutMs ?? 10_000,
      maxLifetimeMs: p.maxLifetimeMs,
      label: "MySQL",
      aborted: (reason) => new OperationCancelledError("MySQL pool: acquire aborted (AbortSignal)", { cause: reason }),
    });
  }

  /** Flavor and version from the handshake (undefined before the first connection). */
  get server(): MysqlServer | undefined {
    return this.#server;
  }

  /** "MariaDB" or "MySQL", once a connection has told which. */
  get label(): string {
    return this.#server?.flavor === "mariadb" ? "MariaDB" : "MySQL";
  }

  #openClient(extra?: Partial<Mysql2.ConnectionOptions>): Promise<Mysql2.Connection> {
    return new Promise<Mysql2.Connection>((resolve, reject) => {
      const client = this.#mysql2.createConnection({ ...this.#connectionOptions, ...extra });
      client.connect((err) => {
        if (err) {
          client.destroy();
          reject(err);
        } else resolve(client);
      });
    });
  }

  async #connect(): Promise<MysqlConnection> {
    let client: Mysql2.Connection;
    try {
      client = await this.#openClient();
    } catch (err) {
      throw this.#mapConnectError(err);
    }
    const conn = new MysqlConnection(client, client.threadId as number);
    // While idle in the pool or checked out, a dying socket must not become an uncaught 'error'.
    client.on("error", () => {
      conn.broken = true;
    });
    client.on("end", () => {
      conn.broken = true;
    });
    try {
      this.#server ??= parseServerVersion(serverVersionOf(client));
      await text(conn, this.#setupSql(this.#server));
      const mode = (await run(client, "SELECT @@session.sql_mode AS m", undefined)).result as { m: unknown }[];
      conn.initialSqlMode = String(mode[0]?.m ?? "");
      if (this.#features.onConnectionCreate) await this.#features.onConnectionCreate(client);
      conn.stateChanged = false;
    } catch (err) {
      conn.destroy();
      throw mapMysqlError(err, this.label);
    }
    return conn;
  }

  #mapConnectError(err: unknown): SQLSpecError {
    const mapped = mapMysqlError(err, this.label);
    if ((err as { code?: string }).code === "ETIMEDOUT" && !(mapped instanceof DatabaseConnectionError)) {
      return new DatabaseConnectionError(`${this.label} connection error: connect timeout`, { cause: err });
    }
    return mapped;
  }

  async acquire(options?: AcquireOptions<MysqlConnection>): Promise<MysqlConnection> {
    const conn = await this.pool.acquire(options?.signal, options?.timeoutMs);
    refSocket(conn, true);
    return conn;
  }

  /**
   * KILL QUERY for what the connection runs, then one throwaway statement (queued behind the session's own) absorbs a
   * KILL that found the thread idle, so it never interrupts the reset or the next borrower.
   */
  async interrupt(conn: MysqlConnection): Promise<boolean> {
    await kill(this.killer, conn);
    await settleCancel(conn, true);
    return !conn.broken;
  }

  /**
   * Always resets before the pool gets the connection back: waits for a cancel in flight, rolls back an open or failed
   * transaction, and per `resetOnRelease` ("auto" by default: only when the server reported changed session state)
   * runs COM_RESET_CONNECTION and re-applies sqlspec's settings. A connection that broke, still has a stream open or
   * cannot be reset is discarded. Never rejects.
   */
  release(conn: MysqlConnection, error?: unknown): Promise<void> {
    const discard = conn.broken || conn.openStreams > 0 || (error !== undefined && isFatalMysqlError(error));
    const mode = this.#config.resetOnRelease ?? "auto";
    if (
      !discard &&
      (conn.pendingCancel !== undefined ||
        mode === true ||
        (mode === "auto" && conn.stateChanged) ||
        conn.failed ||
        (conn.status & STATUS_IN_TRANS) !== 0)
    ) {
      return this.#resetAndRelease(conn);
    }
    // Broken, or nothing to reset: back in the pool (or destroyed) at once.
    if (!discard) refSocket(conn, false);
    this.pool.release(conn, discard);
    return RELEASED;
  }

  async #resetAndRelease(conn: MysqlConnection): Promise<void> {
    let discard: boolean;
    try {
      if (conn.pendingCancel) await conn.pendingCancel;
      if (conn.broken) throw brokenError(this.label);
      const mode = this.#config.resetOnRelease ?? "auto";
      if (mode === true || (mode === "auto" && conn.stateChanged)) {
        await this.reset(conn);
      } else if (conn.failed || (conn.status & STATUS_IN_TRANS) !== 0) {
        // Never hand a connection that is inside a transaction to the next user.
        await text(conn, "ROLLBACK");
      }
      discard = conn.broken || conn.failed || (conn.status & STATUS_IN_TRANS) !== 0;
    } catch {
      discard = true;
    }
    if (!discard) refSocket(conn, false);
    this.pool.release(conn, discard);
  }

  /**
   * COM_RESET_CONNECTION: rolls back, drops temporary tables, user variables and prepared statements, releases
   * GET_LOCK locks, restores session variables; then sqlspec's own settings are applied again.
   */
  async reset(conn: MysqlConnection): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      conn.client.reset((err: unknown) => (err ? reject(err) : resolve()));
    });
    conn.failed = false;
    conn.status = STATUS_AUTOCOMMIT;
    // COM_RESET_CONNECTION keeps the default database a USE chose: go back to the configured one, or, with none
    // configured, discard a connection that has one now (a USE cannot be undone).
    const home = (conn.client.config as { database?: string | undefined }).database;
    if (home) await text(conn, `USE ${quoteIdent(home, "mysql")}`);
    else {
      const rows = (await run(conn.client, "SELECT DATABASE() AS d", undefined)).result as { d: unknown }[];
      if (rows[0]?.d != null) throw new DatabaseConnectionError("MySQL connection chose a database with USE");
    }
    await text(
      conn,
      `${this.#setupSql(this.#server as MysqlServer)}, sql_mode = '${conn.initialSqlMode.replace(/[^A-Z0-9_,]/gi, "")}'`,
    );
    conn.stateChanged = false;
  }

  stats(): PoolStats {
    const idle = this.pool.idleCount;
    return { idle, used: this.pool.size - idle, pending: this.pool.pendingCount };
  }

  async close(): Promise<void> {
    await this.pool.close();
    this.killer.close();
  }
}

function serverVersionOf(client: Mysql2.Connection): string {
  const c = client as unknown as { serverVersion?: string; _handshakePacket?: { serverVersion?: string } };
  return c._handshakePacket?.serverVersion ?? c.serverVersion ?? "";
}

/** Idle pooled sockets must not keep a script alive after its work is done. */
function refSocket(conn: MysqlConnection, on: boolean): void {
  const s = (conn.client as unknown as { stream?: { ref?: () => void; unref?: () => void } }).stream;
  if (on) s?.ref?.();
  else s?.unref?.();
}
