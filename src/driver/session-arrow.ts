/**
 * session.selectToArrow: a result as an Arrow Table, or streamed as RecordBatches, typed from the column types the
 * adapter reports.
 */

import type * as ArrowNs from "apache-arrow";
import { ParameterError, UnsupportedOperationError } from "../core/errors.js";
import type { SQLResult } from "../core/result.js";
import type { Params, Row } from "../core/types.js";
import type { ResultColumnType } from "./adapter.js";
import { ArrowBatchBuilder, arrowRows, checkArrowOptions, loadArrowModule, arrowTable as tableOf } from "./arrow.js";
import type { LoadRecordsOptions } from "./load-records.js";
import { transactionOf } from "./scope.js";
import type { Session } from "./session.js";
import { type InternalOptions, internals, NO_TRANSACTIONS, type StreamHandle } from "./session-internals.js";
import type {
  ArrowOptions,
  ArrowStreamOptions,
  LoadArrowOptions,
  Statement,
  StreamOptions,
} from "./session-options.js";
import { streamBatches, tracked } from "./session-streams.js";

type ArrowModule = Awaited<ReturnType<typeof loadArrowModule>>;

/** Checks before any I/O: the adapter reports column types, the options are valid, apache-arrow is installed. */
async function arrowSetup(session: Session<any>, options: ArrowOptions | undefined): Promise<ArrowModule> {
  if (session.adapter.capabilities.resultColumnTypes !== true) {
    throw new UnsupportedOperationError(
      `selectToArrow needs result column types, which the ${session.adapter.databaseLabel} adapter does not report`,
    );
  }
  checkArrowOptions(options);
  return loadArrowModule("session.selectToArrow");
}

async function arrowTable(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  options: ArrowOptions | undefined,
): Promise<ArrowNs.Table> {
  const arrow = await arrowSetup(session, options);
  let types: readonly ResultColumnType[] | undefined;
  const opts: InternalOptions = { ...options, onColumnTypes: (t) => (types = t) };
  const result = await internals.query<Row>(session, statement, params, opts);
  const builder = new ArrowBatchBuilder(arrow, result.columnNames, types ?? [], options, session.jsonSerializer);
  return tableOf(arrow, builder, result.data);
}

async function* arrowBatches(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  options: ArrowStreamOptions,
  handle: StreamHandle,
): AsyncGenerator<ArrowNs.RecordBatch> {
  handle.started = true;
  try {
    const arrow = await arrowSetup(session, options);
    let types: readonly ResultColumnType[] | undefined;
    const opts: InternalOptions & StreamOptions = { ...options, onColumnTypes: (t) => (types = t) };
    let builder: ArrowBatchBuilder | undefined;
    const size = options.batchSize;
    // Cursor fetches are batchSize rows already; a buffered result (no cursor) is cut into batchSize slices.
    for await (const rows of streamBatches<Row>(session, statement, params, size, opts)) {
      if (rows.length === 0) continue;
      builder ??= arrowBuilder(session, arrow, rows[0] as Row, types, options);
      for (let i = 0; i < rows.length; i += size) {
        yield builder.batch(rows.length <= size ? rows : rows.slice(i, i + size));
      }
    }
  } finally {
    internals.state(session).streams?.delete(handle);
  }
}

function arrowBuilder(
  session: Session<any>,
  arrow: ArrowModule,
  row: Row,
  types: readonly ResultColumnType[] | undefined,
  options: ArrowOptions,
): ArrowBatchBuilder {
  // Stream rows are objects in field order: the column names are the first row's keys.
  return new ArrowBatchBuilder(arrow, Object.keys(row), types ?? [], options, session.jsonSerializer);
}

/** session.selectToArrow: a Table, or with `batchSize` a stream of RecordBatches. */
export function selectToArrowOn(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  options: ArrowOptions | ArrowStreamOptions | undefined,
): Promise<ArrowNs.Table> | AsyncGenerator<ArrowNs.RecordBatch> {
  if (options !== undefined && "batchSize" in options && options.batchSize !== undefined) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ParameterError(`selectToArrow batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    if (internals.transactions(session) !== NO_TRANSACTIONS) transactionOf(session)?.check();
    return tracked(session, (handle) => arrowBatches(session, statement, params, options, handle));
  }
  const work = internals.transactions(session) === NO_TRANSACTIONS ? undefined : transactionOf(session);
  return work === undefined
    ? arrowTable(session, statement, params, options)
    : work.run(() => arrowTable(session, statement, params, options));
}

/** session.loadArrow: the Table's rows through loadRecords, converted batch by batch as the load reads them. */
export async function loadArrowOn(
  session: Session<any>,
  table: string,
  arrowData: ArrowNs.Table,
  options: LoadArrowOptions | undefined,
): Promise<SQLResult> {
  const arrow = await loadArrowModule("session.loadArrow");
  const { columns, rows } = arrowRows(arrow, arrowData);
  // An async source: rows are converted batch by batch as the load reads them, never all held at once.
  const source = (async function* () {
    yield* rows;
  })();
  return session.loadRecords(
    table,
    source as unknown as AsyncIterable<Row>,
    { ...options, columns } as LoadRecordsOptions,
  );
}
