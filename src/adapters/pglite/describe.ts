/**
 * Statement description on an in-memory PGlite (typegen with `--schema`, no server needed). Creating a PGlite runs
 * initdb, which takes seconds; the freshly initialised cluster is cached as a data-dir dump (a few MB, keyed by the
 * PGlite version) so later runs start from it in a fraction of the time.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import {
  DESCRIBE_SESSION_SETTINGS,
  type DescribedField,
  describeMessages,
  type PgDescriber,
  parseTreeFrom,
  type StatementDescription,
} from "../postgres-common/describe.js";

type PgliteModule = typeof import("@electric-sql/pglite");

/** The installed PGlite's version (its package.json is not exported, so walk up from the entry point). */
function pgliteVersion(): string | undefined {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.name === "@electric-sql/pglite") return pkg.version;
      } catch {
        // not here: go up
      }
    }
  } catch {
    // not resolvable through require: no cache
  }
  return undefined;
}

function cacheFile(): string | undefined {
  const version = pgliteVersion();
  if (!version) return undefined;
  const dir = process.env.SQLSPEC_CACHE_DIR ?? join(tmpdir(), "sqlspec-cache");
  return join(dir, `pglite-${version}-initdb.tar.gz`);
}

/** A fresh in-memory PGlite, from the cached initdb dump when there is one (and creating that cache otherwise). */
async function freshPglite(mod: PgliteModule): Promise<PGlite> {
  const cache = cacheFile();
  if (cache) {
    let dump: Buffer | undefined;
    try {
      dump = readFileSync(cache);
    } catch {
      dump = undefined;
    }
    if (dump) {
      try {
        return await mod.PGlite.create({ loadDataDir: new Blob([new Uint8Array(dump)]) });
      } catch {
        // a corrupt or incompatible dump: initialise from scratch and rewrite it below
      }
    }
  }
  const db = await mod.PGlite.create();
  if (cache) {
    try {
      const blob = await db.dumpDataDir("gzip");
      mkdirSync(dirname(cache), { recursive: true });
      const tmp = `${cache}.${process.pid}.tmp`;
      writeFileSync(tmp, new Uint8Array(await blob.arrayBuffer()));
      renameSync(tmp, cache); // atomic: concurrent runs never read half a file
    } catch {
      // caching is an optimisation only
    }
  }
  return db;
}

export async function createPgliteDescriber(): Promise<PgDescriber & { exec(sql: string): Promise<void> }> {
  const mod = await importDriver("@electric-sql/pglite", "sqlspec generate --schema", () =>
    import("@electric-sql/pglite").catch(rethrow),
  );
  const db = await freshPglite(mod);
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
