/**
 * psql as the reference splitter. A minimal fake PostgreSQL server on loopback records every query psql sends
 * (each simple-protocol Query message is one statement as psql's own lexer split it) and the data of each
 * `COPY … FROM STDIN`, without running anything. It answers `SET standard_conforming_strings` with the
 * ParameterStatus message a real server sends, because psql's lexer follows that setting.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PsqlStatement {
  sql: string;
  /** The rows psql streamed for a COPY … FROM STDIN (undefined for other statements). */
  copyData?: string;
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cstrings(...parts: string[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(`${p}\0`, "utf8")));
}

function parameterStatus(name: string, value: string): Buffer {
  return message("S", cstrings(name, value));
}

const READY = message("Z", Buffer.from("I"));

function scsValue(query: string): string | undefined {
  const set = /^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?standard_conforming_strings\s*(?:=|TO)\s*'?(\w+)'?/i.exec(query);
  if (set) return /^(off|false|no|0|of|f|n)$/i.test(set[1]!) ? "off" : "on";
  if (/^\s*RESET\s+(standard_conforming_strings|ALL)\b/i.test(query)) return "on";
  return undefined;
}

/** Runs `psql -f` over `script` against the fake server and returns the statements psql sent, in order. */
export async function psqlSplit(script: string): Promise<PsqlStatement[]> {
  const seen: PsqlStatement[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    let started = false;
    let copy: PsqlStatement | undefined;
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!started) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          buf = buf.subarray(len);
          if (code === 80877103 || code === 80877104) {
            socket.write("N"); // no SSL, no GSS encryption
            continue;
          }
          started = true;
          socket.write(
            Buffer.concat([
              message("R", Buffer.from([0, 0, 0, 0])),
              parameterStatus("server_version", "15.0"),
              parameterStatus("server_encoding", "UTF8"),
              parameterStatus("client_encoding", "UTF8"),
              parameterStatus("standard_conforming_strings", "on"),
              parameterStatus("integer_datetimes", "on"),
              parameterStatus("DateStyle", "ISO, MDY"),
              message("K", Buffer.alloc(8)),
              READY,
            ]),
          );
          continue;
        }
        if (buf.length < 5) return;
        const type = String.fromCharCode(buf[0]!);
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) return;
        const body = buf.subarray(5, len + 1);
        buf = buf.subarray(len + 1);
        if (type === "Q") {
          const sql = body.subarray(0, body.length - 1).toString("utf8");
          if (/^COPY\b[\s\S]*\bFROM\s+STD(IN|OUT)\b/i.test(bare(sql))) {
            copy = { sql, copyData: "" };
            seen.push(copy);
            socket.write(message("G", Buffer.from([0, 0, 0])));
            continue;
          }
          seen.push({ sql });
          const scs = scsValue(bare(sql));
          const out = [message("C", cstrings("SELECT 0"))];
          if (scs !== undefined) out.push(parameterStatus("standard_conforming_strings", scs));
          out.push(READY);
          socket.write(Buffer.concat(out));
        } else if (type === "d" && copy) {
          copy.copyData += body.toString("utf8");
        } else if (type === "c" || type === "f") {
          copy = undefined;
          socket.write(Buffer.concat([message("C", cstrings("COPY 0")), READY]));
        } else if (type === "X") {
          socket.end();
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), "sqlspec-psql-"));
  const file = join(dir, "script.sql");
  writeFileSync(file, script);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        "psql",
        ["-X", "-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "oracle", "-f", file],
        { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PGSSLMODE: "disable", PGGSSENCMODE: "disable" } },
      );
      let err = "";
      child.stderr.on("data", (d) => {
        err += String(d);
      });
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}: ${err}`))));
    });
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return seen;
}

/** Drops what psql drops before a statement (whitespace, comments), and the trailing `;` and whitespace. */
function bare(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith("--", i)) {
      const nl = sql.slice(i).search(/[\r\n]/);
      i = nl < 0 ? sql.length : i + nl;
      continue;
    }
    if (sql.startsWith("/*", i)) {
      let depth = 0;
      let j = i;
      do {
        if (sql.startsWith("/*", j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith("*/", j)) {
          depth--;
          j += 2;
        } else j++;
      } while (depth > 0 && j < sql.length);
      i = j;
      continue;
    }
    break;
  }
  return sql.slice(i).replace(/[\s;]+$/, "");
}

/**
 * Statements in a form both sides share: leading trivia and the trailing `;` dropped, statements with nothing left
 * dropped, and the `\.` terminator psql forwards with the COPY data removed.
 */
export function comparable(statements: readonly (PsqlStatement & { metaCommand?: true })[]): PsqlStatement[] {
  const out: PsqlStatement[] = [];
  for (const s of statements) {
    if (s.metaCommand) continue; // psql runs these itself and sends nothing
    const sql = bare(s.sql);
    if (s.copyData !== undefined) {
      out.push({ sql, copyData: s.copyData.replace(/(^|\n)\\\.\r?\n?$/, "$1") });
    } else if (sql.length > 0) out.push({ sql });
  }
  return out;
}
