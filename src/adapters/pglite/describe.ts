/** Statement description on an in-memory PGlite (typegen with `--schema`, no server needed). */
import type { PGlite } from "@electric-sql/pglite";
import { importDriver } from "../../driver/dependencies.js";
import {
  DESCRIBE_SESSION_SETTINGS,
  type DescribedField,
  describeMessages,
  type PgDescriber,
  parseTreeFrom,
  type StatementDescription,
} from "../postgres-common/describe.js";

export async function createPgliteDescriber(): Promise<PgDescriber & { exec(sql: string): Promise<void> }> {
  const mod = await importDriver(
    "@electric-sql/pglite",
    "sqlspec generate --schema",
    () => import("@electric-sql/pglite"),
  );
  const db: PGlite = await mod.PGlite.create();
  await db.exec(DESCRIBE_SESSION_SETTINGS);
  return {
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
    async describe(sql: string): Promise<StatementDescription> {
      const notices: { message?: string | undefined; detail?: string | undefined }[] = [];
      const { messages } = await db.execProtocol(describeMessages(sql), {
        onNotice: (n) => notices.push(n as never),
      });
      let paramTypes: number[] = [];
      let fields: DescribedField[] = [];
      for (const m of messages as { name: string; dataTypeIDs?: number[]; fields?: any[] }[]) {
        if (m.name === "parameterDescription") paramTypes = [...(m.dataTypeIDs ?? [])];
        else if (m.name === "rowDescription") {
          fields = (m.fields ?? []).map((f) => ({
            name: f.name,
            tableOid: f.tableID,
            columnNumber: f.columnID,
            typeOid: f.dataTypeID,
          }));
        }
      }
      return { paramTypes, fields, parseTree: parseTreeFrom(notices) };
    },
    async query<R>(sql: string, params?: unknown[]): Promise<R[]> {
      return (await db.query<R>(sql, params)).rows;
    },
    close: () => db.close(),
  };
}
