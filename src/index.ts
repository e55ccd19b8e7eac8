/**
 * sqlspec: a SQL execution layer for Node.js. Not an ORM: you write SQL (strings, `sql` templates, the builder,
 * .sql files); sqlspec gives pooled sessions, placeholder conversion, dialect-aware MERGE/upsert, bulk loading,
 * typed results and SQLSTATE-mapped errors.
 */
import * as builders from "./builder/index.js";
import { Explain, type ExplainFormat, type ExplainOptions, type ExplainTarget } from "./core/explain.js";
import { sqlTag } from "./core/statement.js";
// Registers one renderer per dialect with the registry builders render through.
import "./dialects/index.js";

export * from "./builder/index.js";
export type { BuildContext, BuiltStatement, QueryBuilder } from "./core/builder-protocol.js";
export { isQueryBuilder } from "./core/builder-protocol.js";
export {
  clearStatementCache,
  getPlan,
  type StatementPlan,
  setStatementCacheSize,
  statementCacheStats,
} from "./core/compiler.js";
export * from "./core/errors.js";
export {
  Explain,
  type ExplainFormat,
  type ExplainOptions,
  type ExplainResult,
  type ExplainTarget,
  type JsonExplainResult,
  type TextExplainResult,
} from "./core/explain.js";
export {
  AnyCollectionFilter,
  BeforeAfterFilter,
  type FilterValue,
  InCollectionFilter,
  LimitOffsetFilter,
  NotAnyCollectionFilter,
  NotInCollectionFilter,
  NotInSearchFilter,
  NotNullFilter,
  NullFilter,
  OnBeforeAfterFilter,
  OrderByFilter,
  SearchFilter,
  type SearchOptions,
  type StatementFilter,
} from "./core/filters.js";
export {
  defaultJsonDeserializer,
  defaultJsonSerializer,
  type JsonDeserializer,
  type JsonSerializer,
  JsonValue,
} from "./core/json.js";
export { type BulkStrategyName, type ResultMetadata, SQLResult, type SQLResultInit } from "./core/result.js";
export { parseScript, type ScriptStatement, splitScript } from "./core/splitter.js";
export type { StandardSchemaV1 } from "./core/standard-schema.js";
export { isSQL, RawFragment, RefFragment, SQL, type SqlTag, ValueFragment } from "./core/statement.js";
export {
  NamedSQL,
  type NamedSQLOptions,
  type ParamsOf,
  type QueryParameters,
  type RowOf,
  type SqlSource,
  type StatementArgs,
  type Typed,
  type TypedQuery,
  type TypedSQL,
  typedQuery,
  type ValueOf,
} from "./core/typed-query.js";
export {
  type ColumnOf,
  type Dialect,
  type DialectName,
  type NamedParams,
  normalizeDialect,
  type OperationType,
  ParameterStyle,
  type Params,
  type Row,
} from "./core/types.js";
export type { Int8Mode, TimestampMode } from "./core/values.js";
export type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  AtomicFailure,
  BulkCapabilities,
  ColumnInfo,
  ConnectionState,
  CopyInOptions,
  Introspector,
  KeyFold,
  NamedLockSql,
  PoolStats,
  QueryOptions,
  RawResult,
  ResultColumnKind,
  ResultColumnType,
  ServerVersion,
  StackStatement,
  TransactionStatus,
  UniqueIndex,
} from "./driver/adapter.js";
export type { ArrowConversionOptions, ArrowDecimal } from "./driver/arrow.js";
export type {
  ConfigOptions,
  DriverFeatures,
  MigrationConfig,
  PoolConfig,
  ResetOnRelease,
  StatementConfig,
} from "./driver/config.js";
export type { CopyOptions, CopySink, CopySource } from "./driver/copy-statement.js";
export { DataDictionary, type Feature, type TypeCategory } from "./driver/data-dictionary.js";
export { DatabaseConfig, type SessionOptions } from "./driver/database-config.js";
export { FEATURES, TYPE_CATEGORIES } from "./driver/features.js";
export type { LoadRecordsOptions } from "./driver/load-records.js";
export type { NativeBulkStrategy } from "./driver/native-bulk.js";
export {
  type ConnectionEvent,
  getCorrelationId,
  type Logger,
  type LogLevel,
  type ObservabilityConfig,
  type ObservabilityHooks,
  type ObservedContext,
  type PoolEvent,
  type QueryCompleteEvent,
  type QueryErrorEvent,
  type QueryStartEvent,
  type Redact,
  type SessionEvent,
  withCorrelationId,
} from "./driver/observability.js";
export type { OnProgress, Progress } from "./driver/progress.js";
export { SchemaValidationError } from "./driver/schema.js";
export {
  type ArrowOptions,
  type ArrowStreamOptions,
  type ExecuteOptions,
  type LoadArrowOptions,
  type SelectOptions,
  Session,
  type Statement,
  type StreamOptions,
  type TransactionOptions,
} from "./driver/session.js";
export { SQLSpec, type SQLSpecOptions } from "./driver/spec.js";
export type { CompiledStatement, StackItem, StackOptions } from "./driver/stack.js";
export type { UpsertOptions, UpsertStrategy } from "./driver/upsert.js";
export type { DuplicateKeys } from "./driver/upsert-checks.js";
export type {
  MigrationFile,
  MigrationKind,
  VersionScheme,
} from "./migrations/files.js";
export {
  type DriftedMigration,
  type MigrationCheckResult,
  type MigrationEvent,
  type MigrationHost,
  type MigrationRunOptions,
  type MigrationRunResult,
  type MigrationStep,
  Migrator,
  type StampResult,
} from "./migrations/migrator.js";
export type { AppliedMigration } from "./migrations/tracking.js";

/**
 * `sql` is both the tagged template (`` sql`SELECT … ${v}` `` binds v) and the builder factory
 * (`sql.select(…)`, `sql.insertInto(…)`, `sql.update(…)`, `sql.deleteFrom(…)`, `sql.merge()`, `sql.upsert(…)`).
 */
export const sql = Object.assign(sqlTag, {
  /** A SELECT builder: see {@link select}. */
  select: builders.select,
  /** An INSERT builder: see {@link insertInto}. */
  insertInto: builders.insertInto,
  /** An UPDATE builder: see {@link update}. */
  update: builders.update,
  /** A DELETE builder: see {@link deleteFrom}. */
  deleteFrom: builders.deleteFrom,
  /** A MERGE builder: see {@link merge}. */
  merge: builders.merge,
  /** An insert-or-update builder for the dialect: see {@link upsert}. */
  upsert: builders.upsert,
  /**
   * `EXPLAIN` around a builder, a `SQL` object (its values stay bound) or SQL text: see {@link Explain}. Run it with
   * `session.explain(e)` for the plan (JSON or text lines) or `session.execute(e)` for the engine's rows.
   */
  explain: <F extends ExplainFormat = "text">(statement: ExplainTarget, options?: ExplainOptions<F>): Explain<F> =>
    new Explain<F>(statement, options),
});
