/**
 * executeMany and executeStack on node-postgres, each as one extended-protocol pipeline with a single Sync: one round
 * trip, and one implicit transaction on the server. Every value is encoded to wire text/bytes before anything is
 * sent, so a value that cannot be encoded never leaves a pipeline half sent.
 */
import type * as PgModule from "pg";
import type { Row } from "../../core/types.js";
import type { QueryOptions, RawResult, StackStatement } from "../../driver/adapter.js";
import { StackFailure } from "../../driver/adapter.js";
import { NEEDS_TYPES } from "../postgres-common/codecs.js";
import { parseCommandTag, rowsAffectedFor } from "../postgres-common/command-tag.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import { cancelledBeforeSent } from "../postgres-common/errors.js";
import {
  brokenError,
  fieldNames,
  type PgClient,
  type PgClientInternals,
  type PgConnection,
  type PgField,
  untilReady,
} from "./connection.js";
import { type PipelineResult, runPipeline } from "./pipeline.js";
import { inTurn, queryError, statementRun } from "./running.js";
import { deallocate, EMPTY, forgetStale, noteCommand } from "./statements.js";
import type { StatementRun } from "./turns.js";
import type { PgTypes } from "./types.js";

export class PgBatches {
  readonly #types: PgTypes;
  #prepareValueFn: ((v: unknown) => unknown) | undefined;

  constructor(types: PgTypes) {
    this.#types = types;
  }

  /**
   * executeMany as one pipeline: Parse (once per connection for a named statement), then Bind + Execute per set and a
   * single Sync, so N sets cost one round trip instead of N. Up to the Sync the server runs them in one implicit
   * transaction, so the batch is atomic even outside an explicit one.
   */
  async queryMany(conn: PgConnection, sql: string, paramSets: unknown[][], opts: QueryOptions): Promise<RawResult> {
    if (conn.broken) throw brokenError(conn);
    refuseCopyStdio(sql);
    if (paramSets.length === 0) return { rows: [], columns: EMPTY, rowsAffected: 0, command: "" };
    if (opts.signal?.aborted) throw cancelledBeforeSent(opts.signal);
    const run = opts.signal !== undefined || opts.timeoutMs !== undefined ? statementRun(conn, opts) : undefined;
    return inTurn(conn, run, () => this.#pipelineSets(conn, sql, paramSets, opts, run));
  }

  async #pipelineSets(
    conn: PgConnection,
    sql: string,
    paramSets: unknown[][],
    opts: QueryOptions,
    run: StatementRun | undefined,
  ): Promise<RawResult> {
    const client = conn.client as PgClient;
    const types = this.#types;
    const prepareValue = await this.#prepareValue();
    let paramTypes: number[] | undefined;
    const sets = new Array<unknown[]>(paramSets.length);
    for (let i = 0; i < paramSets.length; i++) {
      let v = types.encode(paramSets[i] as unknown[], paramTypes);
      if (v === NEEDS_TYPES) {
        paramTypes = await types.describeParams(client, sql);
        v = types.encode(paramSets[i] as unknown[], paramTypes);
      }
      // Encoded to wire text/bytes up front: a value that cannot be encoded must fail before anything is sent,
      // never halfway through a pipeline whose first sets would then commit.
      const wire = new Array<unknown>(v.length);
      for (let k = 0; k < v.length; k++) wire[k] = prepareValue(v[k]);
      sets[i] = wire;
    }
    const cache = conn.statements;
    const stmt =
      cache !== undefined && opts.prepare !== false && client.getTransactionStatus() !== "E"
        ? cache.get(sql)
        : undefined;
    if (cache !== undefined && cache.evicted.length > 0) await deallocate(client, cache);
    try {
      run?.check();
      // Every set's rows (RETURNING), in set order: each Execute is preceded by a Describe of its portal, so the rows
      // can be parsed (a statement returning nothing answers NoData, a few bytes).
      const rows: Row[] = [];
      let fields: PgField[] = [];
      let parsers: ((text: string) => unknown)[] = [];
      const parserFor = (oid: number): ((text: string) => unknown) => types.getTypeParser(oid, "text");
      const { total, command } = await new Promise<{ total: number; command: string }>((resolve, reject) => {
        let total = 0;
        let command = "";
        let failure: unknown;
        const noop = (): void => {};
        const name = stmt?.name ?? "";
        const batch = {
          text: sql,
          name: stmt?.name,
          submit(c: PgClientInternals["connection"]): void {
            c.stream.cork?.();
            try {
              if (
                name === "" ||
                (c.parsedStatements[name] === undefined && c.submittedNamedStatements[name] === undefined)
              ) {
                c.parse({ text: sql, name, types: [] });
                if (name !== "") c.submittedNamedStatements[name] = sql;
              }
              for (const values of sets) {
                c.bind({ portal: "", statement: name, values });
                c.describe({ type: "P", name: "" });
                c.execute({ portal: "", rows: 0 });
              }
              c.sync();
            } finally {
              c.stream.uncork?.();
            }
          },
          handleRowDescription(msg: { fields: PgField[] }): void {
            if (fields.length === 0) {
              fields = msg.fields;
              parsers = fields.map((f) => parserFor(f.dataTypeID));
            }
          },
          handleDataRow(msg: { fields: (string | null)[] }): void {
            const row: Row = {};
            for (let i = 0; i < fields.length; i++) {
              const v = msg.fields[i];
              row[(fields[i] as PgField).name] =
                v === null || v === undefined ? null : (parsers[i] as (t: string) => unknown)(v);
            }
            rows.push(row);
          },
          handleEmptyQuery: noop,
          handlePortalSuspended: noop,
          handleCopyInResponse: noop,
          handleCopyData: noop,
          handleCommandComplete(msg: { text: string }): void {
            const tag = parseCommandTag(msg.text);
            command = tag.command;
            total += rowsAffectedFor(tag.command, tag.rowsAffected);
          },
          handleError(err: unknown): void {
            failure = err;
            void untilReady(client).then(() => reject(err));
          },
          handleReadyForQuery(): void {
            if (failure === undefined) resolve({ total, command });
          },
        };
        if (run !== undefined) run.submitted = batch;
        client.query(batch as unknown as PgModule.Submittable);
      });
      if (types.hasUnknown(fields)) {
        await types.resolve(client, { command, rowCount: total, rows, fields });
      }
      return { rows, columns: fields.length === 0 ? EMPTY : fieldNames(fields), rowsAffected: total, command };
    } catch (err) {
      forgetStale(conn, types, sql, stmt, paramTypes !== undefined, err);
      throw queryError(conn, err, run?.kind);
    }
  }

  /** executeStack: every statement in one pipeline (pipeline.ts), so one round trip and one implicit transaction. */
  queryStack(conn: PgConnection, statements: readonly StackStatement[]): Promise<RawResult[]> {
    if (conn.broken) return Promise.reject(brokenError(conn));
    return inTurn(conn, undefined, () => this.#pipelineStack(conn, statements));
  }

  async #pipelineStack(conn: PgConnection, statements: readonly StackStatement[]): Promise<RawResult[]> {
    const client = conn.client as PgClient;
    const types = this.#types;
    const prepareValue = await this.#prepareValue();
    const wire: StackStatement[] = [];
    for (const s of statements) {
      let v = s.values.length > 0 ? types.encode(s.values, undefined) : s.values;
      if (v === NEEDS_TYPES) v = types.encode(s.values, await types.describeParams(client, s.sql));
      // Encoded up front: a value that cannot be encoded fails before anything is sent.
      wire.push({ sql: s.sql, values: v.map(prepareValue) });
    }
    let results: PipelineResult[];
    try {
      results = await runPipeline(
        (q) => client.query(q as unknown as PgModule.Submittable),
        wire,
        (oid) => types.getTypeParser(oid, "text"),
      );
    } catch (err) {
      // The transaction status is current only after the pipeline's ReadyForQuery (see untilReady).
      await untilReady(client);
      if (err instanceof StackFailure) throw new StackFailure(err.index, queryError(conn, err.error, undefined));
      throw queryError(conn, err, undefined);
    }
    const out: RawResult[] = [];
    // Asked of every result before the first lookup registers a type: a later statement's rows were read as text too.
    const late = results.map((r) => types.lateFields((r as PipelineResult).fields));
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as PipelineResult;
      noteCommand(conn, types, r.command, (statements[i] as StackStatement).sql);
      const unknown = late[i] as [string, number][];
      if (unknown.length > 0) {
        await types.resolve(
          client,
          { command: r.command, rowCount: r.rowsAffected, rows: r.rows, fields: r.fields },
          unknown,
        );
      }
      const columns = r.fields.length === 0 ? EMPTY : fieldNames(r.fields);
      out.push({ rows: r.rows, columns, rowsAffected: r.rowsAffected, command: r.command });
    }
    return out;
  }

  /** node-postgres' own value encoder (Date, Buffer, arrays, bigint), used for pipelined Binds. */
  async #prepareValue(): Promise<(v: unknown) => unknown> {
    if (this.#prepareValueFn === undefined) {
      const path = "pg/lib/utils.js";
      const utils = (await import(path)) as {
        prepareValue?: (v: unknown) => unknown;
        default?: { prepareValue: (v: unknown) => unknown };
      };
      this.#prepareValueFn =
        utils.prepareValue ?? (utils.default as { prepareValue: (v: unknown) => unknown }).prepareValue;
    }
    return this.#prepareValueFn;
  }
}
