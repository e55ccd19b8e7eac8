/**
 * Several statements as one extended-protocol pipeline on a node-postgres client: Parse/Bind/Describe/Execute per
 * statement and a single Sync, so the whole stack costs one round trip and the server runs it as one implicit
 * transaction (an error skips everything after it up to the Sync). Rows are parsed with the pool's parsers.
 */
import type { Row } from "../../core/types.js";
import { StackFailure } from "../../driver/adapter.js";
import { parseCommandTag, rowsAffectedFor } from "../postgres-common/command-tag.js";

type Parser = (text: string) => unknown;

interface Field {
  name: string;
  dataTypeID: number;
}

/** One statement's answer, as pg's own results carry it (so unknown types can be resolved the same way). */
export interface PipelineResult {
  command: string;
  rowsAffected: number;
  rows: Row[];
  fields: Field[];
}

/** What the pipeline writes on: node-postgres' connection (stable across pg 8.x). */
export interface PipelineConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(q: { text: string; name: string; types: number[] }): void;
  bind(b: { portal: string; statement: string; values: unknown[] }): void;
  describe(q: { type: "S" | "P"; name: string }): void;
  execute(e: { portal: string; rows: number }): void;
  sync(): void;
}

/**
 * Runs `statements` (values already in wire form) as one pipeline through `enqueue` (client.query with a
 * Submittable). Rejects with a StackFailure naming the failing statement's index and the driver error.
 */
export function runPipeline(
  enqueue: (submittable: object) => void,
  statements: readonly { sql: string; values: unknown[] }[],
  parserFor: (oid: number) => Parser,
): Promise<PipelineResult[]> {
  return new Promise((resolve, reject) => {
    const results: PipelineResult[] = [];
    let fields: Field[] = [];
    let parsers: Parser[] = [];
    let rows: Row[] = [];
    let failure: StackFailure | undefined;
    const noop = (): void => {};
    const finish = (command: string, rowsAffected: number): void => {
      results.push({ command, rowsAffected, rows, fields });
      fields = [];
      parsers = [];
      rows = [];
    };
    enqueue({
      submit(c: PipelineConnection): void {
        c.stream.cork?.();
        try {
          for (const s of statements) {
            c.parse({ text: s.sql, name: "", types: [] });
            c.bind({ portal: "", statement: "", values: s.values });
            c.describe({ type: "P", name: "" });
            c.execute({ portal: "", rows: 0 });
          }
          c.sync();
        } finally {
          c.stream.uncork?.();
        }
      },
      handleRowDescription(msg: { fields: Field[] }): void {
        fields = msg.fields;
        parsers = fields.map((f) => parserFor(f.dataTypeID));
      },
      handleDataRow(msg: { fields: (string | null)[] }): void {
        const row: Row = {};
        const values = msg.fields;
        for (let i = 0; i < fields.length; i++) {
          const v = values[i];
          row[(fields[i] as Field).name] = v === null || v === undefined ? null : (parsers[i] as Parser)(v);
        }
        rows.push(row);
      },
      handleCommandComplete(msg: { text: string }): void {
        const tag = parseCommandTag(msg.text);
        finish(tag.command, rowsAffectedFor(tag.command, tag.rowsAffected));
      },
      handleEmptyQuery(): void {
        finish("", 0);
      },
      handlePortalSuspended: noop,
      handleCopyInResponse: noop,
      handleCopyData: noop,
      handleError(err: unknown): void {
        // The failing statement is the one after the last completed; the server skips the rest up to the Sync.
        // node-postgres drops the active query on an error, so ReadyForQuery never reaches this one: settle now
        // (statements sent after this one queue behind that ReadyForQuery).
        failure ??= new StackFailure(results.length, err);
        reject(failure);
      },
      handleReadyForQuery(): void {
        if (failure !== undefined) reject(failure);
        else resolve(results);
      },
    });
  });
}
