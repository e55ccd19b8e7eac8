/**
 * Vitest setup file: a fresh in-memory PGlite starts from a copy of an initdb'd data directory instead of running
 * initdb again. initdb is most of a PGlite start (about 2 of its 3 s of CPU on the 2-core test machine) and the suite
 * starts well over a hundred of them. The copy is the data directory PGlite's own initdb made in this run, with this
 * PGlite version and process time zone, so the database each test gets is the one it got before, only sooner
 * (src/adapters/pglite/describe.ts starts the CLI's schema databases the same way).
 *
 * Only a call with no data directory, no dump of its own and no initdb options (user, database, initdb parameters)
 * is changed; every other start, and a failed read of the copy, goes to PGlite unchanged.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";

const create = PGlite.create.bind(PGlite) as (options?: PGliteOptions) => Promise<PGlite>;
const dir = process.env.SQLSPEC_TEST_PGLITE_INITDB_DIR;

/** Options that initdb or the data directory depend on: such a start runs initdb itself. */
const OWN_INIT: (keyof PGliteOptions)[] = [
  "dataDir",
  "loadDataDir",
  "noInitDb",
  "username",
  "database",
  "fs",
  "initDbStartParams",
  "initdbWasmModule",
];

/** Per time zone: a worker may run files of both the default and the values (TZ=Asia/Tokyo) project. */
const dumps = new Map<string, Promise<Blob | undefined>>();

/** The initdb'd data directory as a tarball: read from the run's folder, or made (once per run and time zone). */
async function initdbDump(tz: string): Promise<Blob | undefined> {
  if (!dir) return undefined;
  const file = join(dir, `initdb-${tz}.tar`);
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    // not made yet in this run
  }
  try {
    const db = await create();
    const blob = await db.dumpDataDir("none");
    await db.close();
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(await blob.arrayBuffer()));
    renameSync(tmp, file); // atomic: a worker reading at the same time sees the whole file or none
    return blob;
  } catch {
    return undefined;
  }
}

function fresh(options: PGliteOptions): boolean {
  return OWN_INIT.every((k) => options[k] === undefined);
}

// Test files share their worker (isolate: false), and this file runs again before each: wrap PGlite.create once.
const PATCHED = Symbol.for("sqlspec.test.pgliteInitdb");
if (!(PATCHED in PGlite)) patch();

function patch(): void {
  Object.defineProperty(PGlite, PATCHED, { value: true });
  PGlite.create = (async (dataDirOrOptions?: string | PGliteOptions, maybeOptions?: PGliteOptions) => {
    if (typeof dataDirOrOptions === "string" || maybeOptions !== undefined) {
      return (create as (...a: unknown[]) => Promise<PGlite>)(dataDirOrOptions, maybeOptions);
    }
    const options = dataDirOrOptions ?? {};
    if (!fresh(options)) return create(options);
    const tz = process.env.TZ ?? "local";
    let dump = dumps.get(tz);
    if (dump === undefined) {
      dump = initdbDump(tz);
      dumps.set(tz, dump);
    }
    const loadDataDir = await dump;
    return create(loadDataDir === undefined ? options : { ...options, loadDataDir });
  }) as typeof PGlite.create;
}
