/**
 * Opening one physical connection: a single-connection postgres.js instance on a socket sqlspec connects itself
 * (TCP_NODELAY, the connect timeout, TLS negotiated here so the wire observer sees plain protocol bytes), with
 * sqlspec's codecs installed and `onConnectionCreate` run before any session gets it.
 */
import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions as TlsOptions, connect as tlsConnect } from "node:tls";
import type * as PostgresNs from "postgres";
import type { PoolConfig, ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { mapPostgresError } from "../postgres-common/errors.js";
import { SESSION_SETTINGS_SQL, sessionSettingsOf } from "../postgres-common/session-state.js";
import { PostgresJsConnection, type PostgresSql, type Unsafe } from "./connection.js";
import type { PostgresJsTypes } from "./types.js";
import { WireObserver } from "./wire.js";

export type PostgresFn = typeof PostgresNs.default;

/** TLS settings sqlspec negotiates itself (postgres.js gets a ready socket), or undefined for plain TCP. */
type TlsSettings = { options: TlsOptions; optional: boolean } | undefined;

export async function loadPostgres(feature: string): Promise<PostgresFn> {
  const mod = await importDriver(
    "postgres",
    feature,
    () => import("postgres").catch(rethrow) as unknown as Promise<{ default: PostgresFn }>,
  );
  return mod.default;
}

/** Opens the pool's connections, all with the same settings. */
export class PostgresJsConnector {
  readonly #postgres: PostgresFn;
  readonly #features: ResolvedDriverFeatures<PostgresSql>;
  readonly #types: PostgresJsTypes;
  readonly #connectTimeoutMs: number;
  readonly #tls: TlsSettings;
  readonly #target: string | undefined;
  readonly #options: Record<string, unknown>;

  constructor(
    postgres: PostgresFn,
    pool: PoolConfig,
    features: ResolvedDriverFeatures<PostgresSql>,
    types: PostgresJsTypes,
    prepare: boolean,
  ) {
    this.#postgres = postgres;
    this.#features = features;
    this.#types = types;
    this.#connectTimeoutMs = pool.connectTimeoutMs ?? 10_000;
    const { tls, target } = tlsSettings(pool);
    this.#tls = tls;
    this.#target = target;
    this.#options = driverOptions(pool, prepare);
  }

  async open(): Promise<PostgresJsConnection> {
    const f = this.#features;
    let conn: PostgresJsConnection | undefined;
    const wire = new WireObserver();
    const connectTimeoutMs = this.#connectTimeoutMs;
    const options = {
      ...this.#options,
      onclose: () => {
        if (conn) conn.broken = true;
      },
      socket: (o: { host: string[]; port: number[]; path?: string | false }) =>
        connectSocket(o, connectTimeoutMs, this.#tls, wire),
    };
    const target = this.#target;
    const sql = (
      target !== undefined ? this.#postgres(target, options as never) : this.#postgres(options as never)
    ) as PostgresSql;
    conn = new PostgresJsConnection(sql, wire);
    this.#types.install(sql);
    try {
      // Connects eagerly, so a refused connection or bad credentials surface here, typed.
      await this.#types.connect(sql, f.enablePgvector);
      if (f.onConnectionCreate) {
        await f.onConnectionCreate(sql);
        // Whatever the hook SET is this connection's baseline: a reset restores it.
        conn.baseline = sessionSettingsOf(
          (await (sql as unknown as Unsafe).unsafe(SESSION_SETTINGS_SQL)) as unknown as Record<string, unknown>[],
        );
      }
      wire.parameterChanged = false;
    } catch (err) {
      void sql.end({ timeout: 0 });
      throw mapPostgresError(err);
    }
    return conn;
  }
}

function driverOptions(p: PoolConfig, prepare: boolean): Record<string, unknown> {
  const connectTimeoutMs = p.connectTimeoutMs ?? 10_000;
  const startup: Record<string, string> = { application_name: p.applicationName ?? "sqlspec" };
  if (p.statementTimeoutMs !== undefined) startup.statement_timeout = String(p.statementTimeoutMs);
  const o: Record<string, unknown> = {
    max: 1,
    // The pool lives here: postgres.js must not close and silently reopen a connection behind a session.
    idle_timeout: null,
    max_lifetime: null,
    connect_timeout: Math.max(1, Math.ceil(connectTimeoutMs / 1000)),
    prepare,
    // Values are parsed and serialized by sqlspec's shared table (PostgresJsTypes.install), arrays of every type
    // included, so postgres.js's own array-type lookup at connect is not needed.
    fetch_types: false,
    onnotice: () => {},
    connection: startup,
    transform: { undefined: null },
    // TLS is negotiated by our socket factory, so the wire observer sees plain protocol bytes.
    ssl: false,
  };
  if (p.connectionString === undefined) {
    o.host = p.host ?? "localhost";
    o.port = p.port ?? 5432;
  }
  if (p.user !== undefined) o.user = p.user;
  if (p.password !== undefined) o.password = p.password;
  if (p.database !== undefined) o.database = p.database;
  return o;
}

/**
 * postgres.js socket factory: a connected socket with TCP_NODELAY and our connect timeout, TLS negotiated here when
 * configured (SSLRequest, then a TLS handshake), and the wire observer listening before postgres.js does.
 */
function connectSocket(
  o: { host: string[]; port: number[]; path?: string | false },
  timeoutMs: number,
  tls: TlsSettings,
  wire: WireObserver,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const host = o.host[0] ?? "localhost";
    const port = o.port[0] ?? 5432;
    const unix = o.path ? /^(.*)\/\.s\.PGSQL\.(\d+)$/.exec(o.path) : null;
    wire.host = unix ? unix[1] : host;
    wire.port = unix ? Number(unix[2]) : port;
    const s = o.path ? netConnect(o.path) : netConnect({ host, port, noDelay: true });
    s.setNoDelay(true);
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    const ready = (socket: Socket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      (socket as Socket & { host?: string }).host = host;
      socket.on("data", wire.feed);
      wire.socket = socket;
      resolve(socket);
    };
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(new Error(`connect timeout after ${timeoutMs} ms to ${host}:${port}`), { code: "ETIMEDOUT" }),
        ),
      timeoutMs,
    );
    s.once("error", fail);
    s.once("connect", () => {
      if (tls === undefined) return ready(s);
      // SSLRequest: length 8, code 80877103. The server answers one byte: S (go ahead) or N (no TLS here).
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4);
      s.once("data", (answer: Buffer) => {
        if (answer[0] === 78 /* N */) {
          if (tls.optional) return ready(s);
          return fail(Object.assign(new Error("The server does not support SSL connections"), { code: "08P01" }));
        }
        if (answer[0] !== 83 /* S */) return fail(new Error("Unexpected answer to SSLRequest"));
        const servername = /^[\d.:]+$/.test(host) ? undefined : host;
        const secure = tlsConnect({ socket: s, ...(servername ? { servername } : {}), ...tls.options });
        secure.once("error", fail);
        secure.once("secureConnect", () => ready(secure));
      });
      s.write(request);
    });
  });
}

/**
 * TLS from `poolConfig.ssl` or the connection string's `sslmode` (which is then removed, so postgres.js does not
 * negotiate a second time). disable → none; allow/prefer → optional, unverified; require → unverified;
 * verify-ca/verify-full (or `ssl: true`) → verified.
 */
function tlsSettings(pool: PoolConfig): { tls: TlsSettings; target: string | undefined } {
  let target = pool.connectionString;
  let mode: string | undefined;
  if (target !== undefined) {
    try {
      const url = new URL(target);
      mode = url.searchParams.get("sslmode") ?? undefined;
      if (mode !== undefined) {
        url.searchParams.delete("sslmode");
        target = url.toString();
      }
    } catch {
      // Not a URL: postgres.js reports it.
    }
  }
  if (pool.ssl !== undefined && pool.ssl !== false) {
    return { tls: { options: pool.ssl === true ? {} : (pool.ssl as TlsOptions), optional: false }, target };
  }
  switch (mode) {
    case "allow":
    case "prefer":
      return { tls: { options: { rejectUnauthorized: false }, optional: true }, target };
    case "require":
      return { tls: { options: { rejectUnauthorized: false }, optional: false }, target };
    case "verify-ca":
    case "verify-full":
      return { tls: { options: {}, optional: false }, target };
    default:
      return { tls: undefined, target };
  }
}
