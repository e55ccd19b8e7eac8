/**
 * Exit codes every `sqlspec` subcommand uses, so scripts and CI can branch on them:
 *   0  success
 *   1  a check ran and failed (`generate --check`: the generated file is stale; `migrate check`: migrations pending)
 *   2  the command could not do its job: bad usage, bad input (SQL, schema, options), database unreachable, a
 *      migration failed, applied migration files changed (drift), another runner kept the migration lock
 *  70  an unexpected internal error (a bug: the stack is printed)
 */
export const ExitCode = { OK: 0, CHECK_FAILED: 1, ERROR: 2, INTERNAL: 70 } as const;
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
