/**
 * sqlspec: a SQL execution layer for Node.js. Not an ORM: you write SQL (strings, `sql` templates, the builder,
 * .sql files); sqlspec gives pooled sessions, placeholder conversion, dialect-aware MERGE/upsert, bulk loading,
 * typed results and SQLSTATE-mapped errors.
 */
import * as builders from "./builder/index.js";
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
export type { Adapter, ColumnInfo, Introspector, QueryOptions, RawResult, ServerVersion } from "./driver/adapter.js";
export type { DriverFeatures, MigrationConfig, PoolConfig, ResetOnRelease, StatementConfig } from "./driver/config.js";
export { DataDictionary, type Feature } from "./driver/data-dictionary.js";
export { DatabaseConfig } from "./driver/database-config.js";
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
export { SchemaValidationError } from "./driver/schema.js";
export {
  type ExecuteOptions,
  type SelectOptions,
  Session,
  type Statement,
  type StreamOptions,
  type TransactionOptions,
} from "./driver/session.js";
export { SQLSpec, type SQLSpecOptions } from "./driver/spec.js";
export type { LoadRecordsOptions, UpsertOptions } from "./driver/upsert.js";
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
  select: builders.select,
  insertInto: builders.insertInto,
  update: builders.update,
  deleteFrom: builders.deleteFrom,
  merge: builders.merge,
  upsert: builders.upsert,
});
