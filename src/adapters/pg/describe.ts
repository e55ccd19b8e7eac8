/** Statement description on a live PostgreSQL server through node-postgres (typegen with `--database-url`). */
import type { Client } from "pg";
import { DatabaseConnectionError } from "../../core/errors.js";
import {
  DESCRIBE_SESSION_SETTINGS,
  type DescribedField,
  type PgDescriber,
  parseTreeFrom,
  type StatementDescription,
} from "../postgres-common/describe.js";
import { loadPg } from "./driver.js";

/** A pg Submittable: Parse + Describe + Sync on the client's connection, nothing executed. */
class DescribeStatement {
  readonly #sql: string;
  readonly #done: (err: unknown, value?: StatementDescription) => void;
  readonly #notices: { message?: string; detail?: string }[] = [];
  #paramTypes: number[] = [];
  #fields: DescribedField[] = [];
  #error: unknown;
  #connection: any;
  readonly #onParams = (msg: { dataTypeIDs: number[] }) => {
    this.#paramTypes = [...msg.dataTypeIDs];
  };
  readonly #onNotice = (msg: { message?: string; detail?: string }) => {
    this.#notices.push(msg);
  };

  constructor(sql: string, done: (err: unknown, value?: StatementDescription) => void) {
    this.#sql = sql;
    this.#done = done;
  }

  submit(connection: any): void {
    this.#connection = connection;
    connection.on("parameterDescription", this.#onParams);
    connection.on("notice", this.#onNotice);
    connection.parse({ text: this.#sql, types: [] });
    connection.describe({ type: "S", name: "" });
    connection.sync();
  }

  handleRowDescription(msg: { fields: any[] }): void {
    this.#fields = msg.fields.map((f) => ({
      name: f.name,
      tableOid: f.tableID,
      columnNumber: f.columnID,
      typeOid: f.dataTypeID,
    }));
  }

  handleError(err: unknown): void {
    this.#error = err;
  }

  handleReadyForQuery(): void {
    this.#connection.removeListener("parameterDescription", this.#onParams);
    this.#connection.removeListener("notice", this.#onNotice);
    if (this.#error) this.#done(this.#error);
    else
      this.#done(undefined, {
        paramTypes: this.#paramTypes,
        fields: this.#fields,
        parseTree: parseTreeFrom(this.#notices),
      });
  }

  handleEmptyQuery(): void {}
  handleCommandComplete(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

export async function createPgDescriber(connectionString: string): Promise<PgDescriber> {
  const pg = await loadPg("sqlspec generate --database-url");
  const client: Client = new pg.Client({ connectionString, application_name: "sqlspec generate" });
  try {
    await client.connect();
  } catch (err) {
    const e = err as { message?: string; code?: string };
    throw new DatabaseConnectionError(
      `Cannot connect to the --database-url server (${redactUrl(connectionString)}): ${e.message || e.code || String(err)}`,
      { cause: err },
    );
  }
  try {
    // Describing must never write: a read-only transaction for the whole session.
    await client.query(`${DESCRIBE_SESSION_SETTINGS}; SET default_transaction_read_only = on`);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    describe(sql: string): Promise<StatementDescription> {
      return new Promise((resolve, reject) => {
        client.query(new DescribeStatement(sql, (err, value) => (err ? reject(err) : resolve(value!))) as never);
      });
    },
    async query<R>(sql: string, params?: unknown[]): Promise<R[]> {
      return (await client.query(sql, params)).rows as R[];
    },
    close: () => client.end(),
  };
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "an unparsable URL";
  }
}
