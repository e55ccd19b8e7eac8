/**
 * Reads the server's side of a postgres.js connection as it arrives, without changing it: postgres.js keeps the
 * ReadyForQuery status, the backend key and COPY states to itself, and sqlspec's connection state must come from the
 * protocol. The observer listens on the socket before postgres.js does, so by the time a query's promise settles its
 * ReadyForQuery has been seen. It only walks message headers (type + length); the few bodies it reads are tiny.
 */

const READY_FOR_QUERY = 90; // Z
const BACKEND_KEY = 75; // K
const PARAMETER_STATUS = 83; // S
const COPY_IN = 71; // G
const COPY_OUT = 72; // H
const COPY_BOTH = 87; // W
const AUTH = 82; // R: the first message of a session; ParameterStatus before its ReadyForQuery is startup noise
const ERROR_RESPONSE = 69; // E
/** An ErrorResponse split across chunks is kept up to this size (a FATAL one is a few hundred bytes). */
const ERROR_BODY = 2048;

/** Bodies at most this long are kept when a message straddles two chunks (all the ones read here are tiny). */
const SMALL_BODY = 64;
const EMPTY = Buffer.alloc(0);

export class WireObserver {
  /** ReadyForQuery status byte: 73 I(dle), 84 T(ransaction), 69 E(rror in transaction). */
  status = 73;
  /** BackendKeyData, for CancelRequest. 0 until the server sent it. */
  pid = 0;
  secret = 0;
  /** A ParameterStatus arrived after startup: a reported setting changed. */
  parameterChanged = false;
  /** The server entered COPY IN/OUT/BOTH since this was last cleared. */
  copyStarted = false;
  /** Count of ReadyForQuery messages seen after startup (a query's sync point passed). */
  readyCount = 0;
  /** Set when the stream could not be framed (never expected); the connection's state is then unknown. */
  lost = false;
  /**
   * The FATAL ErrorResponse the server sent before closing the connection (57P01 from pg_terminate_backend):
   * postgres.js drops it and reports CONNECTION_CLOSED.
   */
  fatal: { code: string; message: string } | undefined;
  /** The socket postgres.js reads (set by sqlspec's socket factory), to undo a pause a finished COPY OUT left behind. */
  socket: { isPaused(): boolean; resume(): unknown } | undefined;
  /** Where the connection went (a Unix socket as its directory, as libpq spells it), for CancelRequest. */
  host: string | undefined;
  port = 5432;

  #started = false;
  #type = 0;
  #remaining = 0;
  readonly #header = Buffer.alloc(5);
  #headerLen = 0;
  #body: Buffer | undefined;
  #bodyLen = 0;

  /** Feed every chunk the socket emits, in order. */
  readonly feed = (chunk: Buffer): void => {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, n - i);
        if (this.#body !== undefined) {
          chunk.copy(this.#body, this.#bodyLen, i, i + take);
          this.#bodyLen += take;
        }
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) {
          const body = this.#body ?? EMPTY;
          this.#body = undefined;
          this.#message(this.#type, body, 0, body.length);
        }
        continue;
      }
      let type: number;
      let length: number;
      if (this.#headerLen === 0 && n - i >= 5) {
        type = chunk[i] as number;
        length = chunk.readInt32BE(i + 1);
        i += 5;
      } else {
        while (this.#headerLen < 5 && i < n) this.#header[this.#headerLen++] = chunk[i++] as number;
        if (this.#headerLen < 5) return;
        this.#headerLen = 0;
        type = this.#header[0] as number;
        length = this.#header.readInt32BE(1);
      }
      if (length < 4) {
        this.lost = true;
        return;
      }
      const bodyLength = length - 4;
      if (n - i >= bodyLength) {
        // The whole body is in this chunk: read it in place.
        this.#message(type, chunk, i, i + bodyLength);
        i += bodyLength;
      } else {
        this.#type = type;
        this.#remaining = bodyLength - (n - i);
        if (bodyLength <= SMALL_BODY ? wanted(type) : type === ERROR_RESPONSE && bodyLength <= ERROR_BODY) {
          this.#body = Buffer.allocUnsafe(bodyLength);
          this.#bodyLen = n - i;
          chunk.copy(this.#body, 0, i, n);
        } else {
          this.#body = undefined;
        }
        i = n;
      }
    }
  };

  #message(type: number, buf: Buffer, start: number, end: number): void {
    switch (type) {
      case READY_FOR_QUERY:
        if (end > start) this.status = buf[start] as number;
        // The startup's ReadyForQuery answers no query: a statement queued while the connection opened is still
        // unanswered after it.
        if (this.#started) this.readyCount++;
        this.#started = true;
        return;
      case BACKEND_KEY:
        if (end - start >= 8) {
          this.pid = buf.readInt32BE(start);
          this.secret = buf.readInt32BE(start + 4);
        }
        return;
      case PARAMETER_STATUS:
        if (this.#started) this.parameterChanged = true;
        return;
      case COPY_IN:
      case COPY_OUT:
      case COPY_BOTH:
        this.copyStarted = true;
        return;
      case AUTH:
        return;
      case ERROR_RESPONSE:
        this.fatal ??= fatalOf(buf, start, end);
        return;
    }
  }
}

function wanted(type: number): boolean {
  return type === READY_FOR_QUERY || type === BACKEND_KEY || type === ERROR_RESPONSE;
}

const SEVERITY = 86; // V: severity, never localized
const CODE = 67; // C
const MESSAGE = 77; // M

/** An ErrorResponse's SQLSTATE and message when its severity is FATAL or PANIC (the server closes the connection). */
function fatalOf(buf: Buffer, start: number, end: number): { code: string; message: string } | undefined {
  let severity = "";
  let code = "";
  let message = "";
  let i = start;
  while (i < end) {
    const field = buf[i++] as number;
    if (field === 0) break;
    const zero = buf.indexOf(0, i);
    if (zero === -1 || zero >= end) return undefined;
    if (field === SEVERITY) severity = buf.toString("latin1", i, zero);
    else if (field === CODE) code = buf.toString("latin1", i, zero);
    else if (field === MESSAGE) message = buf.toString("utf8", i, zero);
    i = zero + 1;
  }
  return (severity === "FATAL" || severity === "PANIC") && code.length === 5 ? { code, message } : undefined;
}
