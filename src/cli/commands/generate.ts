/** `sqlspec generate <sql files or folders…> --out <file.ts>`: typed query objects from .sql files. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { Option } from "commander";
import { diffModules } from "../../typegen/emit.js";
import { generate } from "../../typegen/generate.js";
import type { Int8Mode } from "../../typegen/postgres/ts-types.js";
import { CliError, ExitCode } from "../errors.js";
import type { CliCommand } from "../program.js";

interface GenerateFlags {
  out: string;
  schema?: string;
  databaseUrl?: string;
  dialect: "postgres" | "sqlite";
  int8: Int8Mode;
  importFrom: string;
  typesFrom?: string;
  check?: boolean;
}

export const generateCommand: CliCommand = {
  register(program, ctx) {
    program
      .command("generate")
      .description(
        "Describe each named query in the given .sql files on a real engine and write one typed TypeScript module",
      )
      .argument("<sql...>", "SQL files or folders (folders load recursively; subfolders become namespaces)")
      .requiredOption("-o, --out <file.ts>", "the module to write")
      .option(
        "-s, --schema <file.sql | folder>",
        "schema file or SQL migrations folder, applied to an in-memory database (no server needed)",
      )
      .option(
        "--database-url <url>",
        "describe on a live PostgreSQL server (or, with --dialect sqlite, a database file)",
      )
      .addOption(
        new Option("--dialect <dialect>", "engine the queries are for")
          .choices(["postgres", "sqlite"])
          .default("postgres"),
      )
      .addOption(
        new Option("--int8 <mode>", "JS type of int8/bigint columns: match the adapters' driverFeatures.int8")
          .choices(["number", "bigint", "string"])
          .default("number"),
      )
      .option("--import-from <module>", "module the generated file imports typedQuery from", "sqlspec")
      .option("--types-from <module>", 'module exporting the types named in column annotations (AS "col: Type")')
      .option("--check", "do not write: exit 2 if the file is stale and list the queries that changed")
      .action(async (sources: string[], flags: GenerateFlags) => {
        if (flags.schema && flags.databaseUrl) throw new CliError("give --schema or --database-url, not both");
        const started = performance.now();
        const result = await generate({
          sources,
          out: flags.out,
          schema: flags.schema,
          databaseUrl: flags.databaseUrl,
          dialect: flags.dialect,
          int8: flags.int8,
          importFrom: flags.importFrom,
          typesFrom: flags.typesFrom,
        });
        const target = resolve(flags.out);
        const rel = relative(process.cwd(), target);
        const shown = rel && !rel.startsWith("..") ? rel : target;
        if (result.skipped.length) {
          ctx.io.err(
            `note: skipped ${result.skipped.length} queries written for another dialect: ${result.skipped.join(", ")}`,
          );
        }
        if (flags.check) {
          let current: string | undefined;
          try {
            current = readFileSync(target, "utf8");
          } catch {
            current = undefined;
          }
          if (current === result.code) {
            ctx.io.out(`${shown} is up to date (${result.queries.length} queries)`);
            return;
          }
          const lines = [`${shown} is stale:`];
          if (current === undefined) lines.push("  missing: the file does not exist");
          else {
            const diff = diffModules(current, result.code);
            for (const n of diff.changed) lines.push(`  changed: ${n}`);
            for (const n of diff.added) lines.push(`  added: ${n}`);
            for (const n of diff.removed) lines.push(`  removed: ${n}`);
          }
          lines.push("Run the same command without --check to update it.");
          ctx.io.err(lines.join("\n"));
          ctx.setExitCode(ExitCode.CHECK_FAILED);
          return;
        }
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, result.code);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        ctx.io.out(`Wrote ${shown}: ${result.queries.length} queries (${seconds} s)`);
      });
  },
};
