/**
 * Statement description for `sqlspec generate`: Parse + Describe + Sync on the extended protocol, without
 * executing anything. With `debug_print_parse` on, the server also sends its analysed query tree as a LOG notice,
 * which the typegen reads for nullability. Shared by the PGlite and node-postgres describers.
 */

export interface DescribedField {
  readonly name: string;
  /** pg_class oid of the column's table, or 0 for an expression. */
  readonly tableOid: number;
  /** attnum of the column in that table, or 0. */
  readonly columnNumber: number;
  readonly typeOid: number;
}

export interface StatementDescription {
  readonly paramTypes: readonly number[];
  /** Empty when the statement returns no rows (NoData). */
  readonly fields: readonly DescribedField[];
  /** The `nodeToString` text of the analysed query, when the server sent it. */
  readonly parseTree: string | undefined;
}

/** A database the typegen can describe statements on and read the catalog from. */
export interface PgDescriber {
  describe(sql: string): Promise<StatementDescription>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/** Settings that make the server send its parse tree, compactly, to this client only. */
export const DESCRIBE_SESSION_SETTINGS =
  "SET debug_print_parse = on; SET debug_pretty_print = off; SET client_min_messages = log";

/** The analysed-query notice among those a Parse produced. */
export function parseTreeFrom(notices: readonly { message?: string | undefined; detail?: string | undefined }[]) {
  return notices.find((n) => n.message === "parse tree:")?.detail;
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, "utf8"), Buffer.from([0])]);
}

/** Parse (unnamed statement, no declared parameter types) + Describe statement + Sync, as wire bytes. */
export function describeMessages(sql: string): Uint8Array {
  const parse = message("P", Buffer.concat([cstring(""), cstring(sql), Buffer.from([0, 0])]));
  const describe = message("D", Buffer.concat([Buffer.from("S", "latin1"), cstring("")]));
  const sync = message("S", Buffer.alloc(0));
  return new Uint8Array(Buffer.concat([parse, describe, sync]));
}
