/**
 * A transient status line for long CLI work: on a terminal, "applying 0002 add posts… 1.5 s" redrawn in place while
 * the migration runs, then cleared before the plain line that reports it. Where the output is not a terminal (CI
 * logs, pipes) `io.status` is absent and only the plain lines are printed.
 */
import type { CliIO } from "./program.js";

const TICK_MS = 250;

export class StatusLine {
  readonly #io: CliIO;
  #timer: ReturnType<typeof setInterval> | undefined;
  #shown = false;

  constructor(io: CliIO) {
    this.#io = io;
  }

  /** Shows `label` with the seconds since now, redrawn until `clear()`. */
  start(label: string): void {
    const status = this.#io.status;
    if (status === undefined) return;
    this.clear();
    const t0 = performance.now();
    const draw = (): void => {
      this.#shown = true;
      status(`${label}… ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    };
    draw();
    this.#timer = setInterval(draw, TICK_MS);
    this.#timer.unref?.();
  }

  clear(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#shown) this.#io.status?.("");
    this.#shown = false;
  }
}
