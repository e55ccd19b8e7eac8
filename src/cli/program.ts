/**
 * The `sqlspec` command line. Each subcommand lives in its own module under `commands/` and registers itself on the
 * program; add a new one to COMMANDS. Actions return an exit code (see errors.ts) or throw: a SQLSpecError or
 * CliError is printed as one line without a stack, anything else is a bug and prints its stack.
 */
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { SQLSpecError } from "../core/errors.js";
import { generateCommand } from "./commands/generate.js";
import { migrateCommand } from "./commands/migrate.js";
import { CliError, ExitCode } from "./errors.js";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Replaces the transient status line ("" clears it); absent where stderr is not a terminal. */
  status?: (text: string) => void;
}

export interface CliContext {
  readonly io: CliIO;
  /** Subcommand actions report their exit code here (the default is OK). */
  setExitCode(code: ExitCode): void;
}

export interface CliCommand {
  register(program: Command, ctx: CliContext): void;
}

/** Every subcommand, in help order. */
export const COMMANDS: readonly CliCommand[] = [generateCommand, migrateCommand];

function version(): string {
  try {
    // by package name, so it resolves from src/ and from either build directory alike
    return (createRequire(import.meta.url)("sqlspec/package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const defaultIO: CliIO = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  // carriage return and erase-line: the status redraws in place on a terminal, and leaves nothing once cleared
  ...(process.stderr.isTTY ? { status: (text: string) => process.stderr.write(`\r\x1b[2K${text}`) } : {}),
};

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("sqlspec")
    .description("sqlspec command line: typed queries from .sql files, migrations")
    .version(version(), "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
  for (const command of COMMANDS) command.register(program, ctx);
  const configure = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
      configure(sub);
    }
  };
  configure(program);
  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and resolves to the exit code. Never throws. */
export async function run(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  let code: ExitCode = ExitCode.OK;
  const ctx: CliContext = {
    io,
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.ERROR;
    }
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof SQLSpecError) {
      io.err(`error: ${err.message}`);
      return ExitCode.ERROR;
    }
    io.err(`internal error (please report it): ${(err as Error)?.stack ?? String(err)}`);
    return ExitCode.INTERNAL;
  }
}
