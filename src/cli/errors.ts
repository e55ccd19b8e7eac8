/**
 * Exit codes every `sqlspec` subcommand uses, so scripts and CI can branch on them:
 *   0  success
 *   1  the command failed: bad usage, bad input (SQL, schema, options), database unreachable, a migration failed,
 *      another runner kept the migration lock, upgrade refused because applied files changed
 *   2  a check found a difference: `migrate check` (migrations pending, applied files changed or missing) and
 *      `generate --check` (the generated file is stale)
 *  70  an unexpected internal error (a bug: the stack is printed)
 */
export const ExitCode = { OK: 0, ERROR: 1, CHECK_FAILED: 2, INTERNAL: 70 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: printed as `error: <message>` without a stack. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = ExitCode.ERROR) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
