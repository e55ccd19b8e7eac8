/**
 * Loads named statements from `.sql` files and folders. Folders become dot namespaces (`reports/daily.sql` →
 * `reports.<name>`), files load recursively in a stable (code-point) order, and files are cached by content
 * checksum: loading the same folder twice reads and hashes each file but parses none.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { SQLFileNotFoundError, SQLFileParseError } from "../core/errors.js";
import { NamedSQL } from "../core/typed-query.js";
import type { Dialect } from "../core/types.js";
import { type ColumnAnnotation, stripAnnotations } from "./annotations.js";
import { type ParsedStatement, parseSqlText } from "./parse.js";

/** A loaded statement: its full (namespaced) name, text and where it came from. */
export interface LoadedQuery {
  /** `namespace.name`, e.g. `users.get_by_id`. */
  readonly name: string;
  /** The folder path as dots (`reports.daily` for `reports/daily/…`); undefined at the top level. */
  readonly namespace: string | undefined;
  /** The `-- dialect:` the statement declares, if any. */
  readonly dialect: Dialect | undefined;
  /** The text that runs (alias annotations such as `"email!"` removed). */
  readonly text: string;
  /** The text as written in the file (annotations kept). */
  readonly rawText: string;
  /** What the alias annotations said (nullability, TypeScript type), for `sqlspec generate`. */
  readonly annotations: readonly ColumnAnnotation[];
  /** The operation suffix written after the name (aiosql style: `!`, `*`, `<!`, `$`, `^`, `#`), if any. */
  readonly suffix: string | undefined;
  /** Absolute path of the file. */
  readonly file: string;
  /** 1-based line of the `-- name:` line. */
  readonly line: number;
  /** 1-based line where the SQL text starts. */
  readonly bodyLine: number;
}

/** Counters of a loader's work, to confirm that reloading unchanged files parses nothing. */
export interface LoaderStats {
  /** Files read from disk (each is hashed). */
  filesRead: number;
  /** Files whose content was parsed (a checksum seen before is not parsed again). */
  filesParsed: number;
}

/** A parsed statement with its annotations already stripped (both are cached with the file). */
interface CachedStatement extends ParsedStatement {
  readonly runText: string;
  readonly annotations: readonly ColumnAnnotation[];
}

/** Parsed files by content checksum, shared by every loader in the process (bounded). */
const PARSE_CACHE = new Map<string, readonly CachedStatement[]>();
const PARSE_CACHE_MAX = 20_000;

interface LoadedFile {
  checksum: string;
  names: string[];
}

interface Pending {
  file: string;
  namespace: string | undefined;
  checksum: string;
  statements: readonly CachedStatement[];
}

/**
 * Named statements from `.sql` files: `-- name: get_user` blocks, optional `-- dialect:` lines; folders become dot
 * namespaces. `SQLSpec.loadSqlFiles` uses one; make your own to load files without a registry.
 */
export class SQLFileLoader {
  readonly #queries = new Map<string, LoadedQuery>();
  readonly #files = new Map<string, LoadedFile>();
  readonly #sql = new Map<string, NamedSQL>();
  /** Files read and parsed so far. */
  readonly stats: LoaderStats = { filesRead: 0, filesParsed: 0 };

  /**
   * Loads files and folders (recursively). All or nothing: a parse error or a duplicate name anywhere leaves the
   * loader as it was. A file loaded again with the same content is a no-op; with new content it replaces its queries.
   */
  load(...paths: string[]): this {
    const pending: Pending[] = [];
    for (const path of paths) {
      const abs = resolve(path);
      let stat: ReturnType<typeof statSync>;
      try {
        stat = statSync(abs);
      } catch {
        throw new SQLFileNotFoundError(`SQL file or folder not found: ${path}`);
      }
      if (stat.isDirectory()) this.#walk(abs, [], pending, new Set([realpathSync(abs)]));
      else pending.push(this.#read(abs, undefined));
    }
    this.#commit(pending);
    return this;
  }

  /** The statement as a `SQL` object any session method accepts (dialect attached). */
  getSql(name: string): NamedSQL {
    let sql = this.#sql.get(name);
    if (sql === undefined) {
      const q = this.getQuery(name);
      sql = new NamedSQL(q.name, q.text, { dialect: q.dialect, source: { file: q.file, line: q.line } });
      this.#sql.set(name, sql);
    }
    return sql;
  }

  /** Everything known about a loaded statement. Unknown names raise SQLFileNotFoundError listing near names. */
  getQuery(name: string): LoadedQuery {
    const q = this.#queries.get(name);
    if (q === undefined) throw this.#notFound(name);
    return q;
  }

  /** Whether a statement with this name is loaded. */
  hasQuery(name: string): boolean {
    return this.#queries.has(name);
  }

  /** A loaded statement's runnable SQL text. @throws `SQLFileNotFoundError` for an unknown name. */
  getQueryText(name: string): string {
    return this.getQuery(name).text;
  }

  /** Names in load order (files in code-point path order, statements in file order), optionally in one namespace. */
  listQueries(namespace?: string): string[] {
    const names = [...this.#queries.keys()];
    if (namespace === undefined) return names;
    const prefix = `${namespace}.`;
    return names.filter((n) => n.startsWith(prefix));
  }

  /** Absolute paths of the loaded files, in load order. */
  listFiles(): string[] {
    return [...this.#files.keys()];
  }

  /** Forgets every loaded statement (the process-wide parse cache stays). */
  clear(): void {
    this.#queries.clear();
    this.#files.clear();
    this.#sql.clear();
  }

  #walk(dir: string, namespace: string[], pending: Pending[], visited: Set<string>): void {
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith("."))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = `${dir}${sep}${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = statSync(full, { throwIfNoEntry: false });
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) {
        const real = realpathSync(full);
        if (visited.has(real)) continue; // a symlink cycle
        visited.add(real);
        this.#walk(full, [...namespace, entry.name.replace(/-/g, "_")], pending, visited);
      } else if (isFile && entry.name.toLowerCase().endsWith(".sql")) {
        pending.push(this.#read(full, namespace.length ? namespace.join(".") : undefined));
      }
    }
  }

  #read(file: string, namespace: string | undefined): Pending {
    const content = readFileSync(file, "utf8");
    this.stats.filesRead++;
    const checksum = createHash("sha256").update(content).digest("hex");
    let statements = PARSE_CACHE.get(checksum);
    if (statements === undefined) {
      statements = parseSqlText(content, displayPath(file)).map((s) => {
        const { text, annotations } = stripAnnotations(s.text, s.dialect);
        return { ...s, runText: text, annotations };
      });
      this.stats.filesParsed++;
      if (PARSE_CACHE.size >= PARSE_CACHE_MAX) PARSE_CACHE.delete(PARSE_CACHE.keys().next().value!);
      PARSE_CACHE.set(checksum, statements);
    }
    return { file, namespace, checksum, statements };
  }

  #commit(pending: Pending[]): void {
    // Files reloaded with new content give up their old names first; unchanged files are skipped.
    const replaced = new Set<string>();
    const changed: Pending[] = [];
    const batchFiles = new Set<string>();
    for (const p of pending) {
      if (batchFiles.has(p.file)) continue; // the same file named twice in one call
      batchFiles.add(p.file);
      const known = this.#files.get(p.file);
      if (known?.checksum === p.checksum) continue;
      if (known) for (const n of known.names) replaced.add(n);
      changed.push(p);
    }
    const incoming = new Map<string, LoadedQuery>();
    for (const p of changed) {
      for (const s of p.statements) {
        const name = p.namespace ? `${p.namespace}.${s.name}` : s.name;
        const clash = incoming.get(name) ?? (replaced.has(name) ? undefined : this.#queries.get(name));
        if (clash) {
          throw new SQLFileParseError(
            `Duplicate query name "${name}": ${displayPath(clash.file)}:${clash.line} and ${displayPath(p.file)}:${s.line}`,
          );
        }
        incoming.set(name, {
          name,
          namespace: p.namespace,
          dialect: s.dialect,
          text: s.runText,
          rawText: s.text,
          annotations: s.annotations,
          suffix: s.suffix,
          file: p.file,
          line: s.line,
          bodyLine: s.bodyLine,
        });
      }
    }
    for (const n of replaced) {
      this.#queries.delete(n);
      this.#sql.delete(n);
    }
    for (const p of changed) {
      this.#files.set(p.file, {
        checksum: p.checksum,
        names: p.statements.map((s) => (p.namespace ? `${p.namespace}.${s.name}` : s.name)),
      });
    }
    for (const [name, q] of incoming) this.#queries.set(name, q);
  }

  #notFound(name: string): SQLFileNotFoundError {
    if (this.#queries.size === 0) {
      return new SQLFileNotFoundError(`Query "${name}" not found: no SQL files are loaded (call loadSqlFiles first)`);
    }
    const near = nearNames(name, [...this.#queries.keys()]);
    return new SQLFileNotFoundError(
      `Query "${name}" not found.${near.length ? ` Did you mean: ${near.join(", ")}?` : ""} ` +
        `(${this.#queries.size} queries loaded)`,
    );
  }
}

/** Up to 5 names within a small edit distance of `name`, closest first. */
export function nearNames(name: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length * 0.4));
  const lower = name.toLowerCase();
  return candidates
    .map((c) => ({ c, d: editDistance(lower, c.toLowerCase(), limit) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1))
    .slice(0, 5)
    .map((x) => x.c);
}

/** Levenshtein distance, giving up (returning limit + 1) once every path exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}
