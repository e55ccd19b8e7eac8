/**
 * The Standard Schema v1 interface (https://standardschema.dev), copied as its authors recommend so that sqlspec
 * needs no runtime or type dependency to accept zod, valibot, arktype, … schemas.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The schema library's Standard Schema implementation. */
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

/** The Standard Schema v1 types, as https://standardschema.dev defines them. */
export declare namespace StandardSchemaV1 {
  /** What a Standard Schema exposes under `~standard`. */
  export interface Props<Input = unknown, Output = Input> {
    /** The spec version, always 1. */
    readonly version: 1;
    /** The schema library's name (`"zod"`, `"valibot"`, …). */
    readonly vendor: string;
    /** Validates a value; sqlspec calls it once per row (awaiting it when it returns a promise). */
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    /** Phantom input and output types, for inference only. */
    readonly types?: Types<Input, Output> | undefined;
  }
  /** The outcome of `validate`. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** A value that passed validation. */
  export interface SuccessResult<Output> {
    /** The validated (possibly transformed) value. */
    readonly value: Output;
    /** Always absent on success. */
    readonly issues?: undefined;
  }
  /** A value that failed validation. */
  export interface FailureResult {
    /** Why it failed. */
    readonly issues: ReadonlyArray<Issue>;
  }
  /** One validation failure. */
  export interface Issue {
    /** The schema library's message. */
    readonly message: string;
    /** Where in the value the issue is (property keys or segments), when known. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  /** One step of an issue's path. */
  export interface PathSegment {
    /** The property key. */
    readonly key: PropertyKey;
  }
  /** The schema's input and output types. */
  export interface Types<Input = unknown, Output = Input> {
    /** The type the schema accepts. */
    readonly input: Input;
    /** The type validation produces. */
    readonly output: Output;
  }
  /** The input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema["~standard"]["types"]>["input"];
  /** The output type of a schema (the row type `select` returns with `{ schema }`). */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema["~standard"]["types"]>["output"];
}
