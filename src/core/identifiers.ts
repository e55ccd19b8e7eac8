import type { Dialect } from "./types.js";

const SIMPLE = /^[a-z_][a-z0-9_$]*$/;

/** Quotes one identifier part for a dialect (always quoted: safe for user-supplied names). */
export function quoteIdentifierPart(part: string, dialect: Dialect): string {
  if (dialect === "mysql" || dialect === "bigquery") return `\`${part.replace(/`/g, "``")}\``;
  return `"${part.replace(/"/g, '""')}"`;
}

/** Quotes one identifier only when it needs it (upper case, punctuation, reserved word). */
export function quoteIdentifier(name: string, dialect: Dialect): string {
  return SIMPLE.test(name) && !RESERVED.has(name) ? name : quoteIdentifierPart(name, dialect);
}

/**
 * Quotes a possibly dotted name (`t.col`) for a dialect. Plain lower-case parts are left bare for readability;
 * anything else is quoted, so a user-supplied field can never inject SQL.
 */
export function quoteQualified(name: string, dialect: Dialect): string {
  const parts = name.split(".");
  for (let i = 0; i < parts.length; i++) parts[i] = quoteIdentifier(parts[i] as string, dialect);
  return parts.join(".");
}

/** Words that must be quoted as identifiers in at least one supported dialect. */
export const RESERVED = new Set(
  (
    "all analyse analyze and any array as asc asymmetric authorization between binary both case cast check collate " +
    "column constraint create cross current_catalog current_date current_role current_schema current_time " +
    "current_timestamp current_user default deferrable delete desc distinct do else end except exists false fetch " +
    "for foreign freeze from full grant group having ilike in index initially inner insert intersect into is isnull " +
    "join key keys lateral leading left like limit localtime localtimestamp match merge natural not notnull null " +
    "offset on only or order outer overlaps placing primary range read references returning right row rows select " +
    "session_user set similar some symmetric table tablesample then to trailing true union unique update user using " +
    "values variadic verbose when where window with"
  ).split(" "),
);
