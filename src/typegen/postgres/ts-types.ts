/**
 * PostgreSQL types → TypeScript, following what sqlspec's PostgreSQL adapters return: int8 by the configured
 * `driverFeatures.int8` mode, numeric and money as exact strings, date/timestamp/timestamptz as Date, json/jsonb
 * parsed (`unknown` unless declared), bytea as Buffer, enums as unions of their labels, domains as their base type.
 */
import type { PgCatalog, PgType } from "./catalog.js";

export type Int8Mode = "number" | "bigint" | "string";

interface Mapped {
  output: string;
  input: string;
}

const SCALARS: Record<string, Mapped> = {
  bool: { output: "boolean", input: "boolean" },
  int2: { output: "number", input: "number" },
  int4: { output: "number", input: "number" },
  oid: { output: "number", input: "number" },
  float4: { output: "number", input: "number" },
  float8: { output: "number", input: "number" },
  numeric: { output: "string", input: "string | number | bigint" },
  money: { output: "string", input: "string | number" },
  date: { output: "Date", input: "Date | string" },
  timestamp: { output: "Date", input: "Date | string" },
  timestamptz: { output: "Date", input: "Date | string" },
  json: { output: "unknown", input: "unknown" },
  jsonb: { output: "unknown", input: "unknown" },
  bytea: { output: "Buffer", input: "Buffer | Uint8Array" },
  vector: { output: "number[]", input: "readonly number[] | Float32Array" },
  void: { output: "null", input: "null" },
};

const INT8: Record<Int8Mode, Mapped> = {
  number: { output: "number", input: "number | bigint" },
  bigint: { output: "bigint", input: "bigint | number" },
  string: { output: "string", input: "string | number | bigint" },
};

export class PgTypeMapper {
  readonly #catalog: PgCatalog;
  readonly #int8: Int8Mode;
  /** Enum types used so far: oid → TypeScript alias name. */
  readonly enums = new Map<number, { alias: string; labels: readonly string[] }>();
  readonly #aliases = new Set<string>();

  constructor(catalog: PgCatalog, int8: Int8Mode) {
    this.#catalog = catalog;
    this.#int8 = int8;
  }

  output(oid: number): string {
    return this.#map(oid, "output");
  }

  input(oid: number): string {
    return this.#map(oid, "input");
  }

  #map(oid: number, side: keyof Mapped): string {
    const t = this.#catalog.type(oid);
    if (!t) return "unknown";
    if (t.kind === "d") return this.#map(t.base, side);
    if (t.kind === "e") return this.#enum(t);
    if (t.category === "A" && t.elem > 0) {
      const elem = this.#map(t.elem, side);
      const wrapped = /[|&\s]/.test(elem) ? `(${elem})` : elem;
      return side === "input" ? `readonly ${wrapped}[]` : `${wrapped}[]`;
    }
    if (t.name === "int8" && t.schema === "pg_catalog") return INT8[this.#int8][side];
    const scalar = t.schema === "pg_catalog" || t.name === "vector" ? SCALARS[t.name] : undefined;
    if (scalar) return scalar[side];
    if (t.kind === "p") return "unknown";
    return "string"; // text-like types, ranges, composites, extension types: the driver hands back their text
  }

  #enum(t: PgType): string {
    const known = this.enums.get(t.oid);
    if (known) return known.alias;
    let alias = pascal(t.name);
    if (this.#aliases.has(alias)) alias = pascal(`${t.schema}_${t.name}`);
    this.#aliases.add(alias);
    this.enums.set(t.oid, { alias, labels: t.labels });
    return alias;
  }
}

export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
}
