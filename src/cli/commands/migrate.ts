/**
 * `sqlspec migrate init | create | upgrade | downgrade | current | history | pending | stamp | check`: the project
 * config's `migrations` (see project-config.ts), one line per migration as it runs, and exit codes scripts can
 * trust: 0 done, 1 an error (a failed migration, a lock timeout, bad usage, upgrade refused on drift), 2 `check` found
 * pending migrations, drift or missing files.
 */
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { MigrationFile } from "../../migrations/files.js";
import { show } from "../../migrations/files.js";
import type { MigrationEvent, MigrationRunOptions, MigrationRunResult } from "../../migrations/migrator.js";
import type { AppliedMigration } from "../../migrations/tracking.js";
import { CliError, ExitCode } from "../errors.js";
import type { CliCommand, CliContext } from "../program.js";
import { findConfigFile, loadProjectConfig, type ProjectConfig } from "../project-config.js";
import { StatusLine } from "../status.js";

interface CommonFlags {
  config?: string;
  bindKey?: string;
  json?: boolean;
  lockTimeout?: string;
}

interface RunFlags extends CommonFlags {
  dryRun?: boolean;
  yes?: boolean;
  allowDrift?: boolean;
  outOfOrder?: boolean;
}

export const migrateCommand: CliCommand = {
  register(program, ctx) {
    const migrate = program
      .command("migrate")
      .description("Apply, revert and inspect migrations of the database in sqlspec.config.ts")
      .option("-c, --config <file>", "project config (default: sqlspec.config.ts, .mts, .js, .mjs or .cjs)")
      .option("--bind-key <key>", "which config of the SQLSpec instance (when it has several)")
      .option("--json", "print the result as JSON")
      .option("--lock-timeout <ms>", "how long to wait for another runner's migration lock");

    migrate
      .command("init")
      .description("create the migrations folder")
      .argument("[directory]", "the folder (default: migrationConfig.scriptLocation, else migrations)")
      .action(async (directory: string | undefined, _flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<CommonFlags>();
        let dir = directory;
        if (dir === undefined) {
          const hasConfig = findConfigFile(flags.config) !== undefined;
          dir = hasConfig ? await withProject(flags, async (p) => p.config.migrations.directory) : "migrations";
        }
        mkdirSync(dir, { recursive: true });
        ctx.io.out(`Migrations folder ready: ${show(dir)}`);
        ctx.io.out('Next: sqlspec migrate create "describe the change", write its SQL, then sqlspec migrate upgrade');
      });

    migrate
      .command("create")
      .description("write a new migration file with the next version")
      .argument("<description...>", 'what it changes, e.g. "add users"')
      .option("--ts", "a TypeScript file exporting up(session)/down(session) instead of SQL")
      .action(async (words: string[], _flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<CommonFlags & { ts?: boolean }>();
        const file = await withProject(flags, async (p) =>
          p.config.migrations.create(words.join(" "), { kind: flags.ts ? "ts" : "sql" }),
        );
        if (flags.json) ctx.io.out(JSON.stringify({ file }));
        else ctx.io.out(`Created ${show(file)}`);
      });

    migrate
      .command("upgrade")
      .description("apply pending migrations (all, or up to and including <revision>)")
      .argument("[revision]", "last version to apply")
      .option("--dry-run", "print the SQL that would run; change nothing")
      .option("--allow-drift", "run although applied files changed since they ran")
      .option("--out-of-order", "also apply pending versions older than the newest applied one")
      .action(async (revision: string | undefined, _flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<RunFlags>();
        const status = new StatusLine(ctx.io);
        await withProject(flags, async (p) => {
          const started = performance.now();
          const r = await p.config.migrations.upgrade(revision, runOptions(flags, ctx, status));
          const current = r.dryRun ? undefined : await p.config.migrations.current();
          report(ctx, flags, r, current, started);
        }).finally(() => status.clear());
      });

    migrate
      .command("downgrade")
      .description('revert migrations: -1 (default) the newest, -N, a version (newer ones revert), or "base"')
      .argument("[revision]", "target", "-1")
      .option("--dry-run", "print the SQL that would run; change nothing")
      .option("-y, --yes", "do not ask for confirmation")
      .option("--allow-drift", "run although applied files changed since they ran")
      .action(async (revision: string, _flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<RunFlags>();
        const status = new StatusLine(ctx.io);
        await withProject(flags, async (p) => {
          const migrations = p.config.migrations;
          if (!flags.dryRun && !flags.yes) {
            const plan = await migrations.downgrade(revision, { ...runOptions(flags, ctx), dryRun: true });
            if (plan.migrations.length > 0) {
              const list = plan.migrations.map((m) => `${m.version} ${m.description}`).join(", ");
              await confirm(`Revert ${list}?`, "downgrade");
            }
          }
          const started = performance.now();
          const r = await migrations.downgrade(revision, runOptions(flags, ctx, status));
          const current = r.dryRun ? undefined : await migrations.current();
          report(ctx, flags, r, current, started);
        }).finally(() => status.clear());
      });

    migrate
      .command("current")
      .description("show the newest applied migration")
      .action(async (_flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<CommonFlags>();
        const row = await withProject(flags, (p) => p.config.migrations.current());
        if (flags.json) ctx.io.out(JSON.stringify(row));
        else ctx.io.out(row ? describeApplied(row) : "No migration applied");
      });

    migrate
      .command("history")
      .description("list applied migrations in the order they ran")
      .action(async (_flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<CommonFlags>();
        const rows = await withProject(flags, (p) => p.config.migrations.history());
        if (flags.json) ctx.io.out(JSON.stringify(rows));
        else if (rows.length === 0) ctx.io.out("No migration applied");
        else for (const r of rows) ctx.io.out(`${String(r.executionSequence).padStart(4)}  ${describeApplied(r)}`);
      });

    migrate
      .command("pending")
      .description("list migrations not applied yet")
      .action(async (_flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<CommonFlags>();
        const files = await withProject(flags, (p) => p.config.migrations.pending());
        if (flags.json) ctx.io.out(JSON.stringify(files.map(fileJson)));
        else if (files.length === 0) ctx.io.out("No pending migrations");
        else for (const f of files) ctx.io.out(`${f.version} ${f.description}  (${show(f.file)})`);
      });

    migrate
      .command("stamp")
      .description('mark the database as being at <revision> without running anything ("base": nothing applied)')
      .argument("<revision>", "version")
      .option("-y, --yes", "do not ask for confirmation")
      .action(async (revision: string, _flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<RunFlags>();
        if (!flags.yes)
          await confirm(`Record the database as being at ${revision} without running migrations?`, "stamp");
        const r = await withProject(flags, (p) => p.config.migrations.stamp(revision, runOptions(flags, ctx)));
        if (flags.json) {
          ctx.io.out(JSON.stringify(r));
          return;
        }
        if (r.added.length) ctx.io.out(`recorded without running: ${r.added.join(", ")}`);
        if (r.updated.length) ctx.io.out(`checksum updated: ${r.updated.join(", ")}`);
        if (r.removed.length) ctx.io.out(`removed (downs not run): ${r.removed.join(", ")}`);
        ctx.io.out(`Stamped: database at ${r.version ?? "base"}`);
      });

    migrate
      .command("check")
      .description(
        "compare files with the database: exit 2 when migrations are pending, applied files changed or are missing",
      )
      .action(async (_flags: unknown, cmd: Command) => {
        const flags = cmd.optsWithGlobals<CommonFlags>();
        const r = await withProject(flags, (p) => p.config.migrations.check());
        const code = r.drift.length || r.missing.length || r.pending.length ? ExitCode.CHECK_FAILED : ExitCode.OK;
        if (flags.json) {
          ctx.io.out(
            JSON.stringify({ ...r, pending: r.pending.map(fileJson), outOfOrder: r.outOfOrder.map(fileJson) }),
          );
        } else {
          for (const d of r.drift)
            ctx.io.err(`drift: ${show(d.file)} changed after it was applied (version ${d.version})`);
          for (const m of r.missing) ctx.io.err(`missing: applied version ${m.version} (${m.description}) has no file`);
          for (const f of r.pending) {
            const late = r.outOfOrder.includes(f) ? " [older than the newest applied]" : "";
            ctx.io.err(`pending: ${f.version} ${f.description} (${show(f.file)})${late}`);
          }
          if (r.drift.length || r.missing.length) {
            ctx.io.err("Restore the files, or resolve it deliberately with upgrade --allow-drift or stamp.");
          }
          if (r.ok) ctx.io.out("Migrations are up to date");
        }
        if (code !== 0) ctx.setExitCode(code);
      });
  },
};

async function withProject<T>(flags: CommonFlags, fn: (p: ProjectConfig) => Promise<T> | T): Promise<T> {
  const project = await loadProjectConfig(flags.config, flags.bindKey);
  try {
    return await fn(project);
  } finally {
    await project.close();
  }
}

function runOptions(flags: RunFlags, ctx: CliContext, status?: StatusLine): MigrationRunOptions {
  const o: MigrationRunOptions = {};
  if (flags.dryRun) o.dryRun = true;
  if (flags.allowDrift) o.allowDrift = true;
  if (flags.outOfOrder) o.outOfOrder = true;
  if (flags.lockTimeout !== undefined) {
    const ms = Number(flags.lockTimeout);
    if (!Number.isFinite(ms) || ms < 0)
      throw new CliError(`--lock-timeout takes milliseconds, not "${flags.lockTimeout}"`);
    o.lockTimeoutMs = ms;
  }
  if (!flags.json) o.onEvent = (e) => printEvent(ctx, e, status);
  return o;
}

/** One plain line per migration as it ends; on a terminal, a status line with its running time while it runs. */
function printEvent(ctx: CliContext, e: MigrationEvent, status: StatusLine | undefined): void {
  if (e.type === "start") {
    status?.start(
      `${e.direction === "up" ? "applying" : "reverting"} ${e.migration.version} ${e.migration.description}`,
    );
    return;
  }
  status?.clear();
  if (e.type === "lock-wait") ctx.io.err(`waiting for another runner's migration lock on "${e.table}"...`);
  else if (e.type === "done") {
    const verb = e.direction === "up" ? "applied" : "reverted";
    ctx.io.out(`${verb} ${e.migration.version} ${e.migration.description} (${Math.round(e.executionTimeMs)} ms)`);
  } else if (e.type === "skipped") {
    ctx.io.out(`skipped ${e.migration.version} ${e.migration.description} (another runner did it)`);
  }
}

function report(
  ctx: CliContext,
  flags: RunFlags,
  r: MigrationRunResult,
  current: AppliedMigration | null | undefined,
  started: number,
): void {
  if (flags.json) {
    ctx.io.out(JSON.stringify({ ...r, current: current ?? null }));
    return;
  }
  const verb = r.direction === "up" ? "apply" : "revert";
  if (r.dryRun) {
    for (const m of r.migrations) {
      const tx = m.transactional ? "" : " (not in a transaction)";
      ctx.io.out(`-- ${m.version} ${m.description}: would ${verb}${tx}`);
      ctx.io.out(m.sql === undefined ? `-- ${show(m.file)} is code: its SQL is known only by running it` : `${m.sql};`);
    }
    ctx.io.out(`Dry run: ${r.migrations.length} migration(s) would ${verb}; nothing changed`);
    return;
  }
  const ran = r.migrations.filter((m) => m.executionTimeMs !== undefined).length;
  const at = current ? `${current.version} ${current.description}` : "base (nothing applied)";
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  ctx.io.out(
    ran === 0
      ? `Nothing to ${verb}; database at ${at}`
      : `${r.direction === "up" ? "Applied" : "Reverted"} ${ran} in ${seconds} s; database at ${at}`,
  );
}

function describeApplied(r: AppliedMigration): string {
  const at = r.appliedAt.toISOString();
  return `${r.version} ${r.description}  [${r.type}, ${at}, ${r.executionTimeMs} ms, ${r.appliedBy}]`;
}

function fileJson(f: MigrationFile): Record<string, unknown> {
  return { version: f.version, description: f.description, kind: f.kind, file: f.file, checksum: f.checksum };
}

async function confirm(question: string, command: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new CliError(`${command} changes what the database records: pass --yes to confirm (stdin is not a terminal)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError(`${command} cancelled`);
  } finally {
    rl.close();
  }
}
