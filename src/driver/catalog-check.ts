/**
 * A bulk call's catalog reads, checked once its transaction holds the lock. The call reads column types and keys
 * before BEGIN (its checks and encodings rest on them), and on SQLite BEGIN can wait for another connection's write
 * lock, during which that connection may change the table: what the call read is then out of date. Once BEGIN has
 * returned (SQLite's write lock held: no other DDL can land before COMMIT), the schema stamp is read again; if it
 * moved, each fact the call read is read afresh and compared. DDL elsewhere in the database changes nothing; a change
 * to what the call read rolls back its transaction before any statement ran, and the call starts over (an array
 * source), or fails with an OperationalError (an iterable source, read once). Engines without a schema stamp get no
 * check: their BEGIN does not keep DDL out.
 */
import {
  CardinalityViolationError,
  NotNullViolationError,
  OperationalError,
  ParameterError,
  SQLBuilderError,
} from "../core/errors.js";
import type { BulkCatalog, BulkHost } from "./bulk-host.js";

/** Thrown inside the call's transaction (rolled back) when what it read changed; startingOver runs it again. */
export class CatalogMoved extends Error {
  override readonly name = "CatalogMovedError";

  constructor(what: string) {
    super(`${what}: the table changed (DDL by another connection) while it waited for the lock; starting over`);
  }
}

/** A catalog read of the call: which fact, and what the call got. */
interface Read {
  readonly fact: "columns" | "indexes";
  readonly table: string;
  readonly value: Promise<unknown>;
}

/**
 * The catalog as one bulk call sees it: its reads are noted, and `check` (run by a transaction the engine opens)
 * compares them (nothing to check where the adapter has no schema stamp). `canStartOver`: the call can run again (its
 * rows are an array). A class, as the host below: one allocation per call and the same shape every time.
 */
class CallCatalog implements BulkCatalog {
  readonly #host: BulkHost;
  readonly #what: string;
  readonly #canStartOver: boolean;
  /** The stamp when the call first read the catalog; the reads since. */
  #stamp: number | undefined;
  #reads: Read[] | undefined;

  constructor(host: BulkHost, what: string, canStartOver: boolean) {
    this.#host = host;
    this.#what = what;
    this.#canStartOver = canStartOver;
  }

  #note<T>(fact: Read["fact"], table: string, value: Promise<T>): Promise<T> {
    if (this.#reads !== undefined) this.#reads.push({ fact, table, value });
    return value;
  }

  /**
   * Called before each noted read: the first takes the stamp (a call that reads nothing has nothing to check, and
   * touches no connection here). Inside the caller's transaction it is read exactly (cheap there) and nothing is
   * checked later: on SQLite that transaction already holds the lock. Otherwise a recent reading, checked exactly
   * after BEGIN.
   */
  #first(): BulkCatalog {
    const catalog = this.#host.catalog;
    if (this.#reads === undefined) {
      this.#stamp = catalog.stamp(this.#host.inTransaction);
      if (this.#stamp !== undefined) this.#reads = [];
    }
    return catalog;
  }

  getColumns(table: string): ReturnType<BulkCatalog["getColumns"]> {
    return this.#note("columns", table, this.#first().getColumns(table));
  }
  getUniqueIndexes(table: string, options?: { fresh?: boolean }): ReturnType<BulkCatalog["getUniqueIndexes"]> {
    return this.#note("indexes", table, this.#first().getUniqueIndexes(table, options));
  }
  async getUniqueKeys(table: string, options?: { fresh?: boolean }): Promise<string[][]> {
    return (await this.getUniqueIndexes(table, options)).map((k) => k.columns.slice());
  }
  getVersion(): ReturnType<BulkCatalog["getVersion"]> {
    return this.#host.catalog.getVersion();
  }
  invalidate(table?: string): void {
    this.#host.catalog.invalidate(table);
  }
  stamp(exact: boolean): number | undefined {
    return this.#host.catalog.stamp(exact);
  }
  generation(): number {
    return this.#host.catalog.generation();
  }
  keptPlan(key: string): ReturnType<BulkCatalog["keptPlan"]> {
    return this.#host.catalog.keptPlan(key);
  }
  isCurrent(generation: number): boolean {
    return this.#host.catalog.isCurrent(generation);
  }
  keepPlan(key: string, plan: unknown, generation: number): void {
    this.#host.catalog.keepPlan(key, plan, generation);
  }

  /** Facts were noted under a schema stamp: they need checking under the lock, even for a single statement. */
  get pending(): boolean {
    return this.#reads !== undefined && this.#reads.length > 0;
  }

  /** Throws CatalogMoved (or, when the call cannot start over, an OperationalError) when what it read changed. */
  async check(): Promise<void> {
    const reads = this.#reads;
    const catalog = this.#host.catalog;
    if (reads === undefined || reads.length === 0 || catalog.stamp(true) === this.#stamp) return;
    if (await unchanged(catalog, reads)) return;
    if (this.#canStartOver) throw new CatalogMoved(this.#what);
    throw new OperationalError(
      `${this.#what}: the table changed (DDL by another connection) while it waited for the lock; nothing was written`,
    );
  }
}

/**
 * Runs a bulk call on a host of its own (CallHost): its catalog reads are checked once its transaction holds the lock,
 * and when what it read changed it starts over (`canStartOver`: its rows are an array). `what` names it in errors.
 */
export function withCatalogCheck<T>(
  host: BulkHost,
  what: string,
  canStartOver: boolean,
  call: (host: BulkHost) => Promise<T>,
): Promise<T> {
  return startingOver(what, () => {
    const own = new CallHost(host, what, canStartOver);
    return checked(own, () => call(own));
  });
}

/**
 * The session's host for one bulk call: its catalog reads noted and checked once its transaction holds the lock
 * (catalogCheck). `what` names the call in errors; `canStartOver`: its rows are an array.
 */
class CallHost implements BulkHost {
  readonly #host: BulkHost;
  readonly catalog: CallCatalog;

  constructor(host: BulkHost, what: string, canStartOver: boolean) {
    this.#host = host;
    this.catalog = new CallCatalog(host, what, canStartOver);
  }

  catalogCheck(): Promise<void> {
    return this.catalog.check();
  }
  get catalogPending(): boolean {
    return this.catalog.pending;
  }
  get dialect(): BulkHost["dialect"] {
    return this.#host.dialect;
  }
  get capabilities(): BulkHost["capabilities"] {
    return this.#host.capabilities;
  }
  get bulk(): BulkHost["bulk"] {
    return this.#host.bulk;
  }
  get databaseLabel(): string {
    return this.#host.databaseLabel;
  }
  get canCopyIn(): boolean {
    return this.#host.canCopyIn;
  }
  get jsonSerializer(): BulkHost["jsonSerializer"] {
    return this.#host.jsonSerializer;
  }
  get copyThreshold(): number | undefined {
    return this.#host.copyThreshold;
  }
  get inTransaction(): boolean {
    return this.#host.inTransaction;
  }
  get canQuery(): boolean {
    return this.#host.canQuery;
  }
  get keepsPlans(): boolean {
    return this.#host.keepsPlans;
  }
  run(...args: Parameters<BulkHost["run"]>): ReturnType<BulkHost["run"]> {
    return this.#host.run(...args);
  }
  runBatch(...args: Parameters<BulkHost["runBatch"]>): Promise<void> {
    return this.#host.runBatch(...args);
  }
  stage(...args: Parameters<BulkHost["stage"]>): Promise<void> {
    return this.#host.stage(...args);
  }
  execute(...args: Parameters<BulkHost["execute"]>): ReturnType<BulkHost["execute"]> {
    return this.#host.execute(...args);
  }
  transaction<T>(fn: () => Promise<T>, options?: Parameters<BulkHost["transaction"]>[1]): Promise<T> {
    return this.#host.transaction(fn, options);
  }
  copyIn(...args: Parameters<BulkHost["copyIn"]>): Promise<number> {
    return this.#host.copyIn(...args);
  }
  maxPacketBytes(): Promise<number> {
    return this.#host.maxPacketBytes();
  }
  mapError(err: unknown, sql: string): ReturnType<BulkHost["mapError"]> {
    return this.#host.mapError(err, sql);
  }
}

/**
 * Runs a bulk call on its CallHost. An error it raises is checked too: a value refused on column types another
 * connection had just changed (the JSON check, before BEGIN) starts the call over on the new ones.
 */
async function checked<T>(host: BulkHost, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    // Only a refusal that rests on what the call read (a lock wait, a timeout or a lost connection is not retried).
    // Inside the caller's transaction the stamp was read exactly, under its lock: nothing to check.
    if (!fromCatalog(err) || host.catalogCheck === undefined || host.inTransaction) throw err;
    try {
      await host.catalogCheck();
    } catch (moved) {
      if (moved instanceof CatalogMoved) throw moved;
    }
    throw err;
  }
}

/**
 * The refusals a bulk call makes from catalog facts before anything runs: a value for the column's type (the JSON
 * text check), a column or key the table lacks, a NULL key part of a NOT NULL column, keys equal under the column's
 * collation.
 */
function fromCatalog(err: unknown): boolean {
  return (
    err instanceof ParameterError ||
    err instanceof SQLBuilderError ||
    err instanceof NotNullViolationError ||
    err instanceof CardinalityViolationError
  );
}

/** Whether every fact read gives the same answer now (the stamp moved, so the cache was dropped: these read afresh). */
async function unchanged(catalog: BulkCatalog, reads: readonly Read[]): Promise<boolean> {
  for (const r of reads) {
    try {
      const now = r.fact === "columns" ? await catalog.getColumns(r.table) : await catalog.getUniqueIndexes(r.table);
      if (JSON.stringify(now) !== JSON.stringify(await r.value)) return false;
    } catch {
      // A read that fails now, or failed for the call: the call cannot rely on it.
      return false;
    }
  }
  return true;
}

/** Bulk call attempts at most when each finds what it read changed by the time it holds the lock. */
const ATTEMPTS = 3;

/**
 * Runs a bulk call (which reads the catalog afresh each time) again when its transaction found what it read changed
 * (CatalogMoved: nothing was written). After ATTEMPTS, an OperationalError says so.
 */
export async function startingOver<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof CatalogMoved)) throw err;
      if (attempt === ATTEMPTS) {
        throw new OperationalError(
          `${what}: the table changed (DDL by another connection) while it waited for the lock, ${attempt} times in a row; nothing was written`,
        );
      }
    }
  }
}
