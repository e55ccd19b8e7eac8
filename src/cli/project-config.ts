/**
 * The project's `sqlspec.config.ts` (or `.mts`/`.js`/`.mjs`/`.cjs`): its default export is the `SQLSpec` registry or
 * one database config. TypeScript is loaded with jiti. The objects come from whichever copy of sqlspec the project
 * resolves (its ES or CommonJS build), so they are recognised by shape, never by `instanceof`, and the command runs
 * their own `migrations`.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { DatabaseConfig } from "../driver/database-config.js";
import { CliError } from "./errors.js";

export const CONFIG_FILES = [
  "sqlspec.config.ts",
  "sqlspec.config.mts",
  "sqlspec.config.cts",
  "sqlspec.config.js",
  "sqlspec.config.mjs",
  "sqlspec.config.cjs",
] as const;

export interface ProjectConfig {
  readonly file: string;
  readonly config: DatabaseConfig<any, any, any>;
  /** Closes every pool the command opened, so the process can exit. */
  close(): Promise<void>;
}

interface SpecLike {
  readonly configs: readonly DatabaseConfig<any, any, any>[];
  getConfig(bindKey: string): DatabaseConfig<any, any, any>;
  closeAllPools(): Promise<void>;
}

/** The config file named by --config, else the first of CONFIG_FILES in the working directory; undefined if none. */
export function findConfigFile(flag: string | undefined): string | undefined {
  if (flag !== undefined) {
    const file = resolve(flag);
    if (!existsSync(file)) throw new CliError(`config file not found: ${flag}`);
    return file;
  }
  return CONFIG_FILES.map((n) => resolve(n)).find((f) => existsSync(f));
}

export async function loadProjectConfig(flag: string | undefined, bindKey: string | undefined): Promise<ProjectConfig> {
  const file = findConfigFile(flag);
  if (file === undefined) {
    throw new CliError(
      `no ${CONFIG_FILES[0]} (or .js) in ${process.cwd()}: create one whose default export is your SQLSpec ` +
        "instance or database config, or pass --config <file>",
    );
  }
  let exported: unknown;
  try {
    const { createJiti } = await import("jiti");
    // Native import first: where Node (or a loader such as tsx) already runs TypeScript, the config shares the
    // CLI's module graph; jiti transpiles only when that fails.
    exported = await createJiti(import.meta.url, { tryNative: true }).import(file, { default: true });
  } catch (err) {
    throw new CliError(`cannot load ${file}: ${(err as Error)?.message ?? String(err)}`);
  }
  if (isSpec(exported)) {
    const spec = exported;
    let config: DatabaseConfig<any, any, any>;
    if (bindKey !== undefined) config = spec.getConfig(bindKey);
    else if (spec.configs.length === 1) config = spec.configs[0]!;
    else {
      const keys = spec.configs.map((c) => c.bindKey).filter((k) => k !== undefined);
      throw new CliError(
        spec.configs.length === 0
          ? `${file}: the SQLSpec instance has no config (call spec.addConfig)`
          : `${file} has ${spec.configs.length} configs: choose one with --bind-key (${keys.join(", ") || "give them bindKeys"})`,
      );
    }
    return { file, config, close: () => spec.closeAllPools() };
  }
  if (isConfig(exported)) {
    const config = exported;
    if (bindKey !== undefined && config.bindKey !== bindKey) {
      throw new CliError(`${file} exports one config, whose bindKey is not "${bindKey}"`);
    }
    return { file, config, close: () => config.close() };
  }
  throw new CliError(
    `${file}: the default export must be a SQLSpec instance or a database config (e.g. new PgConfig({…})), ` +
      `not ${exported === null ? "null" : typeof exported}`,
  );
}

function isSpec(x: unknown): x is SpecLike {
  const o = x as Partial<SpecLike> | null;
  return typeof o === "object" && o !== null && Array.isArray(o.configs) && typeof o.getConfig === "function";
}

function isConfig(x: unknown): x is DatabaseConfig<any, any, any> {
  const o = x as Partial<DatabaseConfig<any, any, any>> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    typeof o.provideSession === "function" &&
    typeof o.migrationConfig === "object" &&
    typeof o.migrations === "object"
  );
}
