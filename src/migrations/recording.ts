/**
 * The session a code migration's `up`/`down` receives: the run's session, with every statement that may have changed
 * something noted as it succeeds. Where DDL is not transactional (MySQL, MariaDB) a failure then names exactly what
 * ran and stayed, as it does for SQL files. Reads (`select*`, `stream`) change nothing and are not noted.
 */

import type { SQLResult } from "../core/result.js";
import { scriptStatements } from "../core/splitter.js";
import type { Session } from "../driver/session.js";

const NOTED = new Set<PropertyKey>(["execute", "executeMany", "upsert", "loadRecords"]);

export function recordingSession(session: Session<any>, ran: string[]): Session<any> {
  return new Proxy(session, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (NOTED.has(prop)) {
        return async (...args: unknown[]) => {
          const r = (await fn.apply(target, args)) as SQLResult;
          ran.push(r.statement);
          return r;
        };
      }
      if (prop === "executeScript") {
        // one statement at a time, so a script failing half-way still shows the statements before it
        return async (script: unknown) => {
          let last: SQLResult | undefined;
          const text = typeof script === "string" ? script : undefined;
          if (text === undefined) {
            last = (await fn.call(target, script)) as SQLResult;
            ran.push(last.statement);
            return last;
          }
          for (const statement of scriptStatements(text, target.dialect)) {
            last = (await fn.call(target, statement)) as SQLResult;
            ran.push(statement);
          }
          return last ?? fn.call(target, text);
        };
      }
      if (prop === "begin" || prop === "commit" || prop === "rollback") {
        return async (...args: unknown[]) => {
          await fn.apply(target, args);
          ran.push(String(prop).toUpperCase());
        };
      }
      if (prop === "transaction") {
        // the callback's session records too (statements in a nested transaction are statements of the migration)
        return (cb: (tx: Session<any>) => Promise<unknown>, options?: unknown) =>
          fn.call(target, (tx: Session<any>) => cb(recordingSession(tx, ran)), options);
      }
      return fn.bind(target);
    },
  });
}
