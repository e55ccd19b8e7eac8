/**
 * `db.migrations`: applies and reverts migration files against one config's database.
 *
 * Safety model: one runner at a time (lock.ts: a lock per pool and tracking table in this process, and the adapter's
 * session-scoped named lock across processes, which the server drops when a killed runner's connection ends); where DDL is transactional each migration and its tracking row commit in one
 * transaction, and the row is looked up again inside it, so a runner without a lock still applies each version at
 * most once (the version's primary key backs that up). Where DDL is not transactional the error lists the
 * statements that ran and stayed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { MigrationError } from "../core/errors.js";
import { scriptStatements } from "../core/splitter.js";
import type { MigrationConfig } from "../driver/config.js";
import type { Session } from "../driver/session.js";
import {
  compareVersions,
  type MigrationFile,
  type MigrationKind,
  nextVersion,
  readMigrations,
  show,
  type VersionScheme,
  versionKey,
} from "./files.js";
import { withMigrationLock } from "./lock.js";
import { recordingSession } from "./recording.js";
import { type AppliedMigration, TrackingTable } from "./tracking.js";

/** What the migrator needs from a config: its migration settings and sessions. */
export interface MigrationHost {
  /** Where the migrations live and the tracking table's name. */
  readonly migrationConfig: MigrationConfig;
  /** A session the migrator holds for a run (it takes the migration lock on it). */
  provideSession(): Promise<Session<any>>;
}

/** Reported while a run progresses (the CLI prints one line per `done`). */
export type MigrationEvent =
  | {
      /** Another runner holds the migration lock; this one waits (up to `lockTimeoutMs`). */
      readonly type: "lock-wait";
      /** The tracking table whose lock is held. */
      readonly table: string;
    }
  | {
      /** A migration is about to run. */
      readonly type: "start";
      /** `"up"` (upgrade) or `"down"` (downgrade). */
      readonly direction: "up" | "down";
      /** The migration file. */
      readonly migration: MigrationFile;
    }
  | {
      /** A migration ran and was recorded (or its record removed, going down). */
      readonly type: "done";
      /** `"up"` or `"down"`. */
      readonly direction: "up" | "down";
      /** The migration file. */
      readonly migration: MigrationFile;
      /** Milliseconds it took. */
      readonly executionTimeMs: number;
    }
  | {
      /** Another runner applied (or reverted) it between this runner's plan and its turn. */
      readonly type: "skipped";
      /** `"up"` or `"down"`. */
      readonly direction: "up" | "down";
      /** The migration file. */
      readonly migration: MigrationFile;
    };

/** Options of `upgrade` and `downgrade`. */
export interface MigrationRunOptions {
  /** Return the plan and its SQL without running anything or creating the tracking table. */
  dryRun?: boolean;
  /** Run although applied files changed since they ran (their recorded checksums stay as they were). */
  allowDrift?: boolean;
  /** Apply pending migrations older than the newest applied one (otherwise an error names them). */
  outOfOrder?: boolean;
  /** How long to wait for another runner's lock. Default `migrationConfig.lockTimeoutMs`, else 60 s. */
  lockTimeoutMs?: number;
  /** Called as the run progresses (lock waits, each migration's start and end). */
  onEvent?: (event: MigrationEvent) => void;
}

/** One migration of a run (or of a dry run's plan). */
export interface MigrationStep {
  /** The version as the file name writes it. */
  readonly version: string;
  /** The file name's description. */
  readonly description: string;
  /** SQL or code. */
  readonly kind: MigrationKind;
  /** Absolute path of the file. */
  readonly file: string;
  /** False when it ran (or would run) outside a transaction. */
  readonly transactional: boolean;
  /** Its SQL; undefined for a code migration (known only by running it). */
  readonly sql: string | undefined;
  /** Undefined in a dry run and for a step another runner had already done. */
  readonly executionTimeMs: number | undefined;
}

/** What `upgrade`/`downgrade` did (or, in a dry run, would do). */
export interface MigrationRunResult {
  /** `"up"` for upgrade, `"down"` for downgrade. */
  readonly direction: "up" | "down";
  /** Whether this was a dry run (nothing ran). */
  readonly dryRun: boolean;
  /** In the order they ran (or would run). */
  readonly migrations: readonly MigrationStep[];
}

/** An applied migration whose file changed since it ran. */
export interface DriftedMigration {
  /** The migration's version. */
  readonly version: string;
  /** Absolute path of the file. */
  readonly file: string;
  /** The checksum recorded when it ran. */
  readonly appliedChecksum: string;
  /** The file's checksum now. */
  readonly currentChecksum: string;
}

/** What `check()` found comparing the folder with the tracking table (nothing is changed). */
export interface MigrationCheckResult {
  /** No drift, no applied migration without its file, nothing pending. */
  readonly ok: boolean;
  /** Applied files edited since they ran. */
  readonly drift: readonly DriftedMigration[];
  /** Applied versions whose file is gone. */
  readonly missing: readonly AppliedMigration[];
  /** Files not applied yet, in version order. */
  readonly pending: readonly MigrationFile[];
  /** Pending versions older than the newest applied one (`upgrade` refuses them without `outOfOrder`). */
  readonly outOfOrder: readonly MigrationFile[];
}

/** What `stamp()` changed in the tracking table. */
export interface StampResult {
  /** The version stamped as current; undefined for `"base"` (no migration applied). */
  readonly version: string | undefined;
  /** Versions now recorded without having run. */
  readonly added: readonly string[];
  /** Versions whose checksum was brought up to the file's. */
  readonly updated: readonly string[];
  /** Versions whose rows were removed (newer than the stamp, or without a file); their downs did not run. */
  readonly removed: readonly string[];
}

interface CodeMigration {
  up: (session: Session<any>) => unknown;
  down: ((session: Session<any>) => unknown) | undefined;
  transactional: boolean;
}

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/** A migration committed or rolled back the transaction meant to hold it: what ran before stayed. */
class EndedOwnTransaction extends Error {}

/**
 * One config's migrations (`config.migrations`): upgrade, downgrade, current, history, pending, check and stamp.
 * A run holds a server-side named lock (one runner at a time) and records each migration in the tracking table.
 */
export class Migrator {
  readonly #host: MigrationHost;

  /**
   * @param host - The config whose `migrationConfig` and sessions the migrator uses (usually `config.migrations` makes
   * it).
   */
  constructor(host: MigrationHost) {
    this.#host = host;
  }

  /** Absolute path of the migrations folder (`migrationConfig.scriptLocation`, relative to the working directory). */
  get directory(): string {
    return resolve(this.#host.migrationConfig.scriptLocation ?? "migrations");
  }

  /** The tracking table's name (`migrationConfig.versionTableName`, default `"sqlspec_migrations"`). */
  get tableName(): string {
    return this.#host.migrationConfig.versionTableName ?? "sqlspec_migrations";
  }

  /** The migration files, ordered by version; raises MigrationError for a bad name, duplicate or mixed scheme. */
  files(): MigrationFile[] {
    return readMigrations(this.directory);
  }

  /**
   * Applies pending migrations in version order, up to and including `target` (default: all). With
   * `{ dryRun: true }` returns what would run, with its SQL, and changes nothing.
   */
  upgrade(target?: string | MigrationRunOptions, options?: MigrationRunOptions): Promise<MigrationRunResult> {
    const [t, o] = typeof target === "object" ? [undefined, target] : [target, options ?? {}];
    const files = this.files();
    if (t !== undefined) findFile(files, t);
    return this.#session(async (session) => {
      if (o.dryRun) {
        const table = await TrackingTable.open(session, this.tableName);
        const rows = (await table.exists(session)) ? await table.rows(session) : [];
        const plan = this.#upgradePlan(files, rows, t, o);
        return result(
          "up",
          true,
          plan.map((f) => step(f, "up", session, undefined)),
        );
      }
      return this.#locked(session, o, async (table) => {
        await table.ensure(session);
        const plan = this.#upgradePlan(files, await table.rows(session), t, o);
        const done: MigrationStep[] = [];
        for (const f of plan) done.push(await this.#apply(session, table, f, "up", o));
        return result("up", false, done);
      });
    });
  }

  /**
   * Reverts applied migrations, newest version first: `"-1"` (default) the newest, `"-N"` the N newest, a version
   * everything newer than it (it stays applied), `"base"` everything.
   */
  downgrade(target: string | MigrationRunOptions = "-1", options?: MigrationRunOptions): Promise<MigrationRunResult> {
    const [t, o] = typeof target === "object" ? ["-1", target] : [target, options ?? {}];
    const files = this.files();
    parseDownTarget(t);
    return this.#session(async (session) => {
      if (o.dryRun) {
        const table = await TrackingTable.open(session, this.tableName);
        const rows = (await table.exists(session)) ? await table.rows(session) : [];
        const plan = this.#downgradePlan(files, rows, t, o);
        return result(
          "down",
          true,
          plan.map((f) => step(f, "down", session, undefined)),
        );
      }
      return this.#locked(session, o, async (table) => {
        await table.ensure(session);
        const plan = this.#downgradePlan(files, await table.rows(session), t, o);
        const done: MigrationStep[] = [];
        for (const f of plan) done.push(await this.#apply(session, table, f, "down", o));
        return result("down", false, done);
      });
    });
  }

  /** The applied migration with the highest version, or null when none is. */
  async current(): Promise<AppliedMigration | null> {
    const rows = await this.history();
    let best: AppliedMigration | null = null;
    for (const r of rows) if (best === null || compareVersions(r.version, best.version) > 0) best = r;
    return best;
  }

  /** The tracking table's rows in the order they were written (empty when it does not exist yet). */
  history(): Promise<AppliedMigration[]> {
    return this.#session(async (session) => {
      const table = await TrackingTable.open(session, this.tableName);
      return (await table.exists(session)) ? table.rows(session) : [];
    });
  }

  /** Files not applied yet, in version order. */
  async pending(): Promise<MigrationFile[]> {
    return [...(await this.check()).pending];
  }

  /** Compares files with the tracking table. Changes nothing. */
  async check(): Promise<MigrationCheckResult> {
    const files = this.files();
    const rows = await this.history();
    return compare(files, rows);
  }

  /**
   * Marks the database as being at `version` without running anything: it and every earlier file count as applied
   * (recorded with type `stamp`, or given the file's current checksum when already recorded), and rows of newer
   * versions or of deleted files are removed. `"base"` removes every row.
   */
  stamp(version: string, options: Pick<MigrationRunOptions, "lockTimeoutMs" | "onEvent"> = {}): Promise<StampResult> {
    const files = this.files();
    const target = version === "base" ? undefined : findFile(files, version);
    const keep = target ? files.filter((f) => compareVersions(f.version, target.version) <= 0) : [];
    return this.#session(async (session) => {
      return this.#locked(session, options, async (table) => {
        await table.ensure(session);
        return session.transaction(async (tx) => {
          const rows = await table.rows(tx);
          const byVersion = new Map(rows.map((r) => [versionKey(r.version), r]));
          const keepKeys = new Set(keep.map((f) => versionKey(f.version)));
          const added: string[] = [];
          const updated: string[] = [];
          const removed: string[] = [];
          for (const r of rows) {
            if (keepKeys.has(versionKey(r.version))) continue;
            await table.delete(tx, r.version);
            removed.push(r.version);
          }
          for (const f of keep) {
            const row = byVersion.get(versionKey(f.version));
            if (row === undefined) {
              await table.insert(tx, {
                version: f.version,
                description: f.description,
                type: "stamp",
                checksum: f.checksum,
                executionTimeMs: 0,
                appliedBy: appliedBy(),
              });
              added.push(f.version);
            } else if (row.checksum !== f.checksum) {
              await table.updateChecksum(tx, row.version, f.checksum);
              updated.push(f.version);
            }
          }
          return { version: target?.version, added, updated, removed };
        });
      });
    });
  }

  /**
   * Writes a new migration file with the next version (sequential or a UTC timestamp, following the files already
   * there, else `migrationConfig.versionScheme`) and returns its path. Never overwrites.
   */
  create(description: string, options: { kind?: "sql" | "ts" } = {}): string {
    const slug = description
      .trim()
      .replace(/[^A-Za-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .toLowerCase();
    if (slug === "")
      throw new MigrationError(`A migration needs a description with letters or digits, not "${description}"`);
    const files = this.files();
    const scheme: VersionScheme = this.#host.migrationConfig.versionScheme ?? "sequential";
    const version = nextVersion(files, scheme, new Date());
    const kind = options.kind ?? "sql";
    const file = join(this.directory, `${version}_${slug}.${kind}`);
    const text =
      kind === "sql"
        ? `-- name: migrate-${version}-up\n-- ${description.trim()}\n-- Write the statements that apply this change here.\n\n\n` +
          `-- name: migrate-${version}-down\n-- Write the statements that undo it here, or delete this block if it ` +
          "cannot be undone.\n\n"
        : `import type { Session } from "sqlspec";\n\n/** ${description.trim()} */\nexport async function up(session: Session): Promise<void> {\n` +
          `  await session.execute("");\n}\n\nexport async function down(session: Session): Promise<void> {\n` +
          `  await session.execute("");\n}\n`;
    try {
      mkdirSync(this.directory, { recursive: true });
      writeFileSync(file, text, { flag: "wx" });
    } catch (err) {
      throw new MigrationError(`Cannot create ${show(file)}: ${(err as Error).message}`, { version, file, cause: err });
    }
    return file;
  }

  // ---------------------------------------------------------------------------------------------------------------

  async #session<T>(fn: (session: Session<any>) => Promise<T>): Promise<T> {
    const session = await this.#host.provideSession();
    let failure: unknown;
    try {
      return await fn(session);
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      // A connection whose lock release failed, or that a migration left in doubt, is discarded, never reused.
      await session.release(failure);
    }
  }

  /** Runs fn as the only runner of this tracking table (see lock.ts). */
  #locked<T>(
    session: Session<any>,
    options: MigrationRunOptions,
    fn: (table: TrackingTable) => Promise<T>,
  ): Promise<T> {
    const timeout = options.lockTimeoutMs ?? this.#host.migrationConfig.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const name = this.tableName;
    // the table is resolved once the lock is held: on a shared connection (PGlite, SQLite :memory:) even that
    // statement would wait behind the running migration's transaction, past lockTimeoutMs
    return withMigrationLock(
      session,
      name,
      timeout,
      () => options.onEvent?.({ type: "lock-wait", table: name }),
      async () => fn(await TrackingTable.open(session, name)),
    );
  }

  #upgradePlan(
    files: readonly MigrationFile[],
    rows: readonly AppliedMigration[],
    target: string | undefined,
    options: MigrationRunOptions,
  ): MigrationFile[] {
    const state = compare(files, rows);
    if (!options.allowDrift) assertNoDrift(state);
    const limit = target === undefined ? undefined : findFile(files, target);
    let plan = [...state.pending];
    if (limit) plan = plan.filter((f) => compareVersions(f.version, limit.version) <= 0);
    const unwritten = plan.find((f) => f.kind === "sql" && f.upSql === "");
    if (unwritten) {
      throw new MigrationError(
        `${show(unwritten.file)} has no SQL in its "migrate-${unwritten.version}-up" block yet: write it, or delete ` +
          "the file. Nothing was run.",
        { version: unwritten.version, file: unwritten.file },
      );
    }
    const early = state.outOfOrder.filter((f) => plan.includes(f));
    if (early.length && !options.outOfOrder) {
      const newest = rows.reduce((a, b) => (compareVersions(a.version, b.version) >= 0 ? a : b));
      throw new MigrationError(
        `Pending migration${early.length > 1 ? "s" : ""} ${early.map((f) => show(f.file)).join(", ")} ` +
          `${early.length > 1 ? "are" : "is"} older than the applied ${newest.version}. Run them anyway with ` +
          "outOfOrder (CLI: --out-of-order), or give them newer versions.",
        { version: early[0]!.version, file: early[0]!.file },
      );
    }
    return plan;
  }

  #downgradePlan(
    files: readonly MigrationFile[],
    rows: readonly AppliedMigration[],
    target: string,
    options: MigrationRunOptions,
  ): MigrationFile[] {
    const state = compare(files, rows);
    if (!options.allowDrift) assertNoDrift(state, true);
    const applied = [...rows].sort((a, b) => compareVersions(b.version, a.version));
    const t = parseDownTarget(target);
    let undo: AppliedMigration[];
    if (t.kind === "steps") {
      // More steps than applied migrations is a mistake (as in Alembic), not "revert everything": say so, run nothing.
      if (t.steps > applied.length) {
        throw new MigrationError(
          `downgrade "${target}": only ${applied.length} migration${applied.length === 1 ? " is" : "s are"} applied. ` +
            'Nothing was reverted; use "base" to revert them all.',
        );
      }
      undo = applied.slice(0, t.steps);
    } else if (t.kind === "base") undo = applied;
    else {
      const known = applied.some((r) => compareVersions(r.version, t.version) === 0);
      if (!known && !files.some((f) => compareVersions(f.version, t.version) === 0)) {
        throw new MigrationError(`No migration has version ${t.version} (downgrade target)`);
      }
      undo = applied.filter((r) => compareVersions(r.version, t.version) > 0);
    }
    const byKey = new Map(files.map((f) => [versionKey(f.version), f]));
    return undo.map((r) => {
      const f = byKey.get(versionKey(r.version));
      if (f === undefined) {
        throw new MigrationError(`Applied migration ${r.version} (${r.description}) has no file; cannot revert it`, {
          version: r.version,
        });
      }
      if (f.kind === "sql" && f.downSql === undefined) {
        throw new MigrationError(
          `${show(f.file)} has no "-- name: migrate-${f.version}-down" block: migration ${f.version} cannot be reverted`,
          { version: f.version, file: f.file },
        );
      }
      return f;
    });
  }

  async #apply(
    session: Session<any>,
    table: TrackingTable,
    f: MigrationFile,
    direction: "up" | "down",
    options: MigrationRunOptions,
  ): Promise<MigrationStep> {
    const code = f.kind === "sql" ? undefined : await loadCode(f, direction);
    const transactional = (code?.transactional ?? f.transactional) && session.adapter.capabilities.transactionalDdl;
    options.onEvent?.({ type: "start", direction, migration: f });
    const started = performance.now();
    const ran: string[] = [];
    // Another runner (one without a lock) may have done it since the plan was made: then this one skips it.
    const stillNeeded = async (s: Session<any>) => (await table.has(s, f.version)) === (direction === "down");
    const body = async (s: Session<any>) => {
      await runBody(s, f, code, direction, ran);
      if (transactional && !s.inTransaction) {
        // A COMMIT or ROLLBACK in the migration ended the transaction that was to hold it and its row.
        throw new EndedOwnTransaction(
          "it ended its own transaction (a COMMIT or ROLLBACK in it), so its statements are no longer atomic with " +
            "the tracking row; remove that statement, or mark the file -- transactional: false",
        );
      }
      if (direction === "down") await table.delete(s, f.version);
      else {
        await table.insert(s, {
          version: f.version,
          description: f.description,
          type: f.kind,
          checksum: f.checksum,
          executionTimeMs: performance.now() - started,
          appliedBy: appliedBy(),
        });
      }
    };
    let skipped = false;
    try {
      if (transactional) {
        await session.transaction(async (tx) => {
          if (await stillNeeded(tx)) await body(tx);
          else skipped = true;
        });
      } else if (await stillNeeded(session)) await body(session);
      else skipped = true;
    } catch (err) {
      throw failure(f, direction, transactional && !(err instanceof EndedOwnTransaction), ran, err);
    }
    if (skipped) {
      options.onEvent?.({ type: "skipped", direction, migration: f });
      return step(f, direction, session, undefined, transactional);
    }
    const ms = performance.now() - started;
    options.onEvent?.({ type: "done", direction, migration: f, executionTimeMs: ms });
    return step(f, direction, session, ms, transactional);
  }
}

// -----------------------------------------------------------------------------------------------------------------

async function runBody(
  session: Session<any>,
  f: MigrationFile,
  code: CodeMigration | undefined,
  direction: "up" | "down",
  ran: string[],
): Promise<void> {
  let text: unknown;
  if (code === undefined) text = direction === "up" ? f.upSql : f.downSql;
  else {
    const fn = direction === "up" ? code.up : code.down;
    text = await fn!(recordingSession(session, ran));
  }
  const pieces = typeof text === "string" ? [text] : Array.isArray(text) ? text : [];
  for (const piece of pieces) {
    if (typeof piece !== "string") {
      throw new MigrationError(`${show(f.file)}: ${direction}() must return SQL text, an array of it, or nothing`);
    }
    for (const statement of scriptStatements(piece, session.dialect)) {
      await session.executeScript(statement);
      ran.push(statement);
    }
  }
}

function failure(
  f: MigrationFile,
  direction: "up" | "down",
  transactional: boolean,
  ran: readonly string[],
  cause: unknown,
): MigrationError {
  const what = `${direction === "up" ? "Migration" : "Reverting migration"} ${f.version} (${f.description}) failed`;
  const reason = (cause as Error)?.message ?? String(cause);
  let outcome: string;
  if (transactional) outcome = `rolled back; ${direction === "up" ? "not recorded" : "still recorded"}`;
  else if (ran.length === 0)
    outcome = `no statement of it ran; ${direction === "up" ? "not recorded" : "still recorded"}`;
  else {
    const list = ran.map((s, i) => `  ${i + 1}. ${oneLine(s)}`).join("\n");
    outcome =
      `not run in a transaction (DDL commits at once here), so these ${ran.length} statement(s) ran and stayed; ` +
      `the version is ${direction === "up" ? "not recorded" : "still recorded"}. Undo them before running it again:\n${list}\nError`;
  }
  return new MigrationError(`${what} (${show(f.file)}): ${outcome}: ${reason}`, {
    version: f.version,
    file: f.file,
    statementsRun: [...ran],
    cause,
  });
}

function oneLine(sql: string): string {
  const s = sql.replace(/\s+/g, " ").trim();
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function step(
  f: MigrationFile,
  direction: "up" | "down",
  session: Session<any>,
  executionTimeMs: number | undefined,
  transactional?: boolean,
): MigrationStep {
  return {
    version: f.version,
    description: f.description,
    kind: f.kind,
    file: f.file,
    transactional: transactional ?? (f.transactional && session.adapter.capabilities.transactionalDdl),
    sql: f.kind === "sql" ? (direction === "up" ? f.upSql : f.downSql) : undefined,
    executionTimeMs,
  };
}

function result(direction: "up" | "down", dryRun: boolean, migrations: MigrationStep[]): MigrationRunResult {
  return { direction, dryRun, migrations };
}

function compare(files: readonly MigrationFile[], rows: readonly AppliedMigration[]): MigrationCheckResult {
  const byKey = new Map(files.map((f) => [versionKey(f.version), f]));
  const appliedKeys = new Set(rows.map((r) => versionKey(r.version)));
  const drift: DriftedMigration[] = [];
  const missing: AppliedMigration[] = [];
  for (const r of rows) {
    const f = byKey.get(versionKey(r.version));
    if (f === undefined) missing.push(r);
    else if (f.checksum !== r.checksum) {
      drift.push({ version: r.version, file: f.file, appliedChecksum: r.checksum, currentChecksum: f.checksum });
    }
  }
  const pending = files.filter((f) => !appliedKeys.has(versionKey(f.version)));
  const newest = rows.reduce<string | undefined>(
    (a, r) => (a === undefined || compareVersions(r.version, a) > 0 ? r.version : a),
    undefined,
  );
  const outOfOrder = newest === undefined ? [] : pending.filter((f) => compareVersions(f.version, newest) < 0);
  return { ok: !drift.length && !missing.length && !pending.length, drift, missing, pending, outOfOrder };
}

function assertNoDrift(state: MigrationCheckResult, forDowngrade = false): void {
  const problems: string[] = [];
  for (const d of state.drift) problems.push(`${show(d.file)} changed after it was applied (version ${d.version})`);
  if (!forDowngrade) {
    for (const m of state.missing) problems.push(`applied version ${m.version} (${m.description}) has no file`);
  }
  if (problems.length === 0) return;
  const first = state.drift[0];
  throw new MigrationError(
    `Migration files disagree with the database:\n  ${problems.join("\n  ")}\n` +
      "Restore the files, or resolve it deliberately: allowDrift (CLI: --allow-drift) to run anyway, or stamp.",
    first ? { version: first.version, file: first.file } : {},
  );
}

function findFile(files: readonly MigrationFile[], version: string): MigrationFile {
  if (!/^\d+$/.test(version)) throw new MigrationError(`A migration version is digits, not "${version}"`);
  const f = files.find((x) => compareVersions(x.version, version) === 0);
  if (f === undefined) {
    const known = files.map((x) => x.version);
    throw new MigrationError(
      `No migration file has version ${version}` +
        (known.length ? ` (known: ${known.slice(-10).join(", ")})` : " (the migrations folder is empty)"),
    );
  }
  return f;
}

type DownTarget = { kind: "steps"; steps: number } | { kind: "base" } | { kind: "version"; version: string };

function parseDownTarget(target: string): DownTarget {
  if (target === "base") return { kind: "base" };
  const steps = /^-(\d+)$/.exec(target);
  if (steps) {
    const n = Number(steps[1]);
    if (n < 1) throw new MigrationError(`downgrade "${target}": give -1 or more steps`);
    return { kind: "steps", steps: n };
  }
  if (/^\d+$/.test(target)) return { kind: "version", version: target };
  throw new MigrationError(`downgrade target must be a version, -N (steps back) or "base", not "${target}"`);
}

const JITI: string = "jiti";

async function loadCode(f: MigrationFile, direction: "up" | "down"): Promise<CodeMigration> {
  let mod: Record<string, unknown>;
  try {
    // loaded by a name bundlers do not follow: an app bundle never carries the transpiler, and code migrations are
    // read from disk beside node_modules anyway
    const { createJiti } = (await import(/* @vite-ignore */ JITI)) as typeof import("jiti");
    const jiti = createJiti(f.file, { moduleCache: false, fsCache: false });
    mod = (await jiti.import(f.file)) as Record<string, unknown>;
  } catch (err) {
    throw new MigrationError(`${show(f.file)}: cannot load it: ${(err as Error)?.message ?? String(err)}`, {
      version: f.version,
      file: f.file,
      cause: err,
    });
  }
  const up = mod.up;
  const down = mod.down;
  if (typeof up !== "function") {
    throw new MigrationError(`${show(f.file)} exports no up(session) function`, { version: f.version, file: f.file });
  }
  if (direction === "down" && typeof down !== "function") {
    throw new MigrationError(`${show(f.file)} exports no down(session): migration ${f.version} cannot be reverted`, {
      version: f.version,
      file: f.file,
    });
  }
  if (mod.transactional !== undefined && typeof mod.transactional !== "boolean") {
    throw new MigrationError(`${show(f.file)}: export const transactional must be true or false`);
  }
  return {
    up: up as CodeMigration["up"],
    down: typeof down === "function" ? (down as CodeMigration["down"]) : undefined,
    transactional: mod.transactional !== false,
  };
}

function appliedBy(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME ?? "unknown";
  }
  return `${user}@${hostname()}`;
}
