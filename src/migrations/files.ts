/**
 * Migration files on disk: `{version}_{description}.sql` with `-- name: migrate-{version}-up` / `-down` blocks, or
 * `{version}_{description}.ts|.js` exporting `up(session)` / `down(session)`. Pure reading and validation; every
 * problem is a MigrationError naming the file before anything touches a database.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { MigrationError } from "../core/errors.js";
import { parseSqlText } from "../loader/parse.js";

/** A migration file's kind, from its extension: SQL (`-- name: migrate-0001-up/down` blocks) or a code module. */
export type MigrationKind = "sql" | "ts" | "js";
/** How versions are written: `0001` (sequential) or a UTC timestamp `20261130101500`. */
export type VersionScheme = "sequential" | "timestamp";

/** One migration as found on disk. */
export interface MigrationFile {
  /** Digits as written in the file name, e.g. `0001` or `20261130101500`. */
  readonly version: string;
  /** The file name's description with `_` shown as spaces, e.g. `add users`. */
  readonly description: string;
  /** SQL or code (TypeScript/JavaScript exporting `up`/`down`). */
  readonly kind: MigrationKind;
  /** Absolute path. */
  readonly file: string;
  /** sha256 (hex) of the file with `-- name:` lines left out and line endings normalised. */
  readonly checksum: string;
  /** False when the file says `-- transactional: false` (or a code file exports `transactional = false`). */
  readonly transactional: boolean;
  /** SQL of the up block (SQL files only). */
  readonly upSql?: string;
  /** SQL of the down block; undefined when the file has none (SQL files only). */
  readonly downSql?: string;
}

const FILE_NAME = /^(\d+)_([A-Za-z0-9][\w-]*)\.(sql|ts|mts|cts|js|mjs|cjs)$/;
const CODE_OR_SQL = /\.(sql|ts|mts|cts|js|mjs|cjs)$/i;
/** Type declarations and source maps sit next to compiled code migrations; they are not migrations. */
const IGNORED = /(\.d\.[cm]?ts|\.map)$/i;
const NAME_LINE = /^\s*--\s*name\s*:/i;
const TRANSACTIONAL_LINE = /^\s*--\s*transactional\s*:\s*(\S+)\s*$/i;
const BLOCK_NAME = /^migrate_(\d+)_(up|down)$/;
/** The tracking table's version column is VARCHAR(32). */
const MAX_VERSION_DIGITS = 32;
/** YYYYMMDDHHMMSS. */
const TIMESTAMP_DIGITS = 14;

/** `sequential` for short versions, `timestamp` for 14 digits that form a valid UTC date and time. */
export function versionScheme(version: string): VersionScheme {
  return version.length === TIMESTAMP_DIGITS && parseTimestampVersion(version) !== undefined
    ? "timestamp"
    : "sequential";
}

function parseTimestampVersion(v: string): Date | undefined {
  const [y, mo, d, h, mi, s] = [
    v.slice(0, 4),
    v.slice(4, 6),
    v.slice(6, 8),
    v.slice(8, 10),
    v.slice(10, 12),
    v.slice(12),
  ].map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const ok =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return ok && y >= 1970 ? date : undefined;
}

/** Orders versions numerically (`2` before `10`); equal numbers compare equal whatever their zero padding. */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The version as the tracking table stores it and as `target` arguments are matched: no leading zeros. */
export function versionKey(version: string): string {
  return BigInt(version).toString();
}

/** The file's checksum: sha256 of its text without `-- name:` lines, BOM and `\r`, so renaming a block or a
 * checkout with other line endings is no drift but any change to SQL or comments is. */
export function checksumOf(content: string): string {
  const lines = content
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\r|\n/)
    .filter((l) => !NAME_LINE.test(l));
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/**
 * Reads every migration in `dir`, ordered by version. A missing folder is an empty list. Raises MigrationError for a
 * file whose name does not follow the pattern, two files with one version, versions that mix the sequential and
 * timestamp schemes, and SQL files whose blocks are missing or named for another version.
 */
export function readMigrations(dir: string): MigrationFile[] {
  const abs = resolve(dir);
  let names: string[];
  try {
    if (!statSync(abs).isDirectory()) throw new MigrationError(`Migrations location is not a folder: ${show(abs)}`);
    names = readdirSync(abs);
  } catch (err) {
    if (err instanceof MigrationError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new MigrationError(`Cannot read the migrations folder ${show(abs)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const files: MigrationFile[] = [];
  for (const name of names.sort()) {
    if (name.startsWith(".") || !CODE_OR_SQL.test(name) || IGNORED.test(name)) continue;
    const file = join(abs, name);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) throw new MigrationError(`${show(file)}: a broken link in the migrations folder`);
    if (!stat.isFile()) continue;
    const m = FILE_NAME.exec(name);
    if (!m) {
      throw new MigrationError(
        `${show(file)}: not a migration file name; use {version}_{description}.sql|.ts|.js, e.g. 0001_add_users.sql ` +
          "(letters, digits, _ and - in the description)",
      );
    }
    if (m[1]!.length > MAX_VERSION_DIGITS) {
      throw new MigrationError(`${show(file)}: a version has at most ${MAX_VERSION_DIGITS} digits`);
    }
    files.push(readOne(file, m[1]!, m[2]!, m[3]!));
  }
  files.sort((a, b) => compareVersions(a.version, b.version));
  for (let i = 1; i < files.length; i++) {
    const prev = files[i - 1]!;
    const cur = files[i]!;
    if (compareVersions(prev.version, cur.version) === 0) {
      throw new MigrationError(
        `Two migrations have version ${versionKey(cur.version)}: ${show(prev.file)} and ${show(cur.file)}`,
      );
    }
  }
  checkOneScheme(files);
  return files;
}

function checkOneScheme(files: readonly MigrationFile[]): void {
  const seq = files.find((f) => versionScheme(f.version) === "sequential");
  const ts = files.find((f) => versionScheme(f.version) === "timestamp");
  if (seq && ts) {
    throw new MigrationError(
      `Migration versions mix two schemes: ${show(seq.file)} is sequential and ${show(ts.file)} is a UTC timestamp. ` +
        "Versions order numerically, so a timestamp always sorts after every sequential number; rename the files to " +
        "one scheme (and `stamp` the database if renamed versions were already applied).",
    );
  }
}

function readOne(file: string, version: string, rawDescription: string, ext: string): MigrationFile {
  const content = readFileSync(file, "utf8");
  const description = rawDescription.replace(/_/g, " ");
  const checksum = checksumOf(content);
  if (ext !== "sql") {
    const kind: MigrationKind = ext.endsWith("ts") ? "ts" : "js";
    // `transactional` of a code file is read from its exports when it is loaded (see loadCode).
    return { version, description, kind, file, checksum, transactional: true };
  }
  const { parseable, empty } = setAsideEmptyBlocks(content);
  let statements: ReturnType<typeof parseSqlText> = [];
  try {
    if (empty.length === 0 || parseable.some((l) => l.trim() !== "" && !l.trim().startsWith("--"))) {
      statements = parseSqlText(parseable.join("\n"), show(file));
    }
  } catch (err) {
    throw new MigrationError((err as Error).message, { cause: err });
  }
  let upSql: string | undefined;
  let downSql: string | undefined;
  // A block still as `create` wrote it (comments only): the migration is listed as pending but refuses to run.
  for (const e of empty) statements.push({ ...e, suffix: undefined, dialect: undefined, text: "", bodyLine: e.line });
  for (const s of statements) {
    const b = BLOCK_NAME.exec(s.name);
    if (!b || compareVersions(b[1]!, version) !== 0) {
      throw new MigrationError(
        `${show(file)}:${s.line}: block "${s.name}" does not belong to this file; name the blocks ` +
          `"migrate-${version}-up" and "migrate-${version}-down"`,
      );
    }
    if (b[2] === "up") upSql = s.text;
    else if (s.text !== "") downSql = s.text;
  }
  if (upSql === undefined) {
    throw new MigrationError(`${show(file)}: no "-- name: migrate-${version}-up" block`);
  }
  return {
    version,
    description,
    kind: "sql",
    file,
    checksum,
    transactional: transactionalDirective(content, file),
    upSql,
    ...(downSql === undefined ? {} : { downSql }),
  };
}

/**
 * Blocks whose body is only blanks and comments, by name and line, and the file with their lines blanked (line
 * numbers kept) for the loader's parser, which rejects an empty block.
 */
function setAsideEmptyBlocks(content: string): { parseable: string[]; empty: { name: string; line: number }[] } {
  const lines = content.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) if (NAME_LINE.test(lines[i]!)) starts.push(i);
  const empty: { name: string; line: number }[] = [];
  const parseable = [...lines];
  starts.forEach((start, b) => {
    const end = starts[b + 1] ?? lines.length;
    const body = lines.slice(start + 1, end);
    if (body.some((l) => l.trim() !== "" && !l.trim().startsWith("--"))) return;
    const name = lines[start]!.replace(NAME_LINE, "").trim().replace(/-/g, "_");
    empty.push({ name, line: start + 1 });
    for (let i = start; i < end; i++) parseable[i] = "";
  });
  return { parseable, empty };
}

function transactionalDirective(content: string, file: string): boolean {
  let result = true;
  const lines = content.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = TRANSACTIONAL_LINE.exec(lines[i]!);
    if (!m) continue;
    const v = m[1]!.toLowerCase();
    if (v !== "true" && v !== "false") {
      throw new MigrationError(`${show(file)}:${i + 1}: "-- transactional:" takes true or false, not "${m[1]}"`);
    }
    result = v === "true";
  }
  return result;
}

/** The next version for a new file: one more than the highest sequential one (zero-padded like it), or the current
 * UTC time (one second later than the newest file when that is not later). */
export function nextVersion(existing: readonly MigrationFile[], scheme: VersionScheme, now: Date): string {
  const last = existing.at(-1);
  const effective = last ? versionScheme(last.version) : scheme;
  if (effective === "sequential") {
    const next = last ? BigInt(last.version) + 1n : 1n;
    return next.toString().padStart(Math.max(4, last?.version.length ?? 4), "0");
  }
  let t = Math.floor(now.getTime() / 1000) * 1000;
  if (last) t = Math.max(t, (parseTimestampVersion(last.version)?.getTime() ?? 0) + 1000);
  return new Date(t).toISOString().replace(/[-:T]/g, "").slice(0, TIMESTAMP_DIGITS);
}

/** Path relative to the working directory when inside it (error messages). */
export function show(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}
