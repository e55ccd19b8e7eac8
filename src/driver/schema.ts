import { brandError } from "../core/brand.js";
import { SQLSpecError } from "../core/errors.js";
import type { StandardSchemaV1 } from "../core/standard-schema.js";

/** A row did not match the schema given to select*(…, { schema }). `issues` are the schema library's own. */
export class SchemaValidationError extends SQLSpecError {
  static {
    brandError(SchemaValidationError, "SchemaValidationError");
  }
  /** The schema library's issues for the failing row. */
  readonly issues: readonly StandardSchemaV1.Issue[];
  /** 0-based index of the first row that failed. */
  readonly rowIndex: number;
  /**
   * @param issues - The schema library's issues.
   * @param rowIndex - 0-based index of the row.
   */
  constructor(issues: readonly StandardSchemaV1.Issue[], rowIndex: number) {
    const first = issues[0];
    const path = first?.path?.map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".");
    super(`Row ${rowIndex} failed schema validation${path ? ` at "${path}"` : ""}: ${first?.message ?? "invalid"}`);
    this.issues = issues;
    this.rowIndex = rowIndex;
  }
}

/** Validates (and transforms) every row through a Standard Schema v1 schema (zod, valibot, arktype, …). */
export async function validateRows<T>(schema: StandardSchemaV1<unknown, T>, rows: readonly unknown[]): Promise<T[]> {
  const out = new Array<T>(rows.length);
  const validate = schema["~standard"].validate;
  for (let i = 0; i < rows.length; i++) {
    let r = validate(rows[i]);
    if (r instanceof Promise) r = await r;
    if (r.issues) throw new SchemaValidationError(r.issues, i);
    out[i] = r.value;
  }
  return out;
}
