/**
 * PostgreSQL's COPY (text format) through node-postgres, which has no COPY API of its own: a query
 * object that pg's client drives through the protocol's CopyIn/CopyOut messages (pg accepts any
 * object with `submit` as a query). COPY FROM STDIN is the fastest way to load rows; COPY TO STDOUT
 * gives a table's rows in the same format.
 */
import type pg from "pg";

/** What pg's client calls on an active query; only the COPY paths do something here. */
interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

class CopyQuery {
  readonly text: string;
  callback: ((error: Error | null, result?: unknown) => void) | undefined;
  #input: Buffer[];
  #output: Buffer[] = [];
  #rows = 0;
  #settled = false;
  #resolve: (result: { rows: number; data: Buffer }) => void;
  #reject: (error: Error) => void;

  constructor(
    text: string,
    input: Buffer[],
    resolve: (result: { rows: number; data: Buffer }) => void,
    reject: (error: Error) => void,
  ) {
    this.text = text;
    this.#input = input;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: Connection): void {
    for (const chunk of this.#input) connection.sendCopyFromChunk(chunk);
    connection.endCopyFrom();
  }

  handleCopyData(message: { chunk: Buffer }): void {
    // The parser reuses its buffer for the next message.
    this.#output.push(Buffer.from(message.chunk));
  }

  handleCommandComplete(message: { text: string }): void {
    const match = /^COPY (\d+)$/.exec(message.text);
    if (match !== null) this.#rows = Number(match[1]);
  }

  handleReadyForQuery(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve({ rows: this.#rows, data: Buffer.concat(this.#output) });
  }

  handleError(error: Error): void {
    // An ErrorResponse is followed by ReadyForQuery; a broken connection is not.
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }

  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
}

function run(client: pg.ClientBase, text: string, input: Buffer[]) {
  return new Promise<{ rows: number; data: Buffer }>((resolve, reject) => {
    // pg types query() for its own Query class; any object with submit() is accepted.
    (client as unknown as { query(q: CopyQuery): void }).query(
      new CopyQuery(text, input, resolve, reject),
    );
  });
}

/** `COPY <target> FROM STDIN` with `data` (text format); resolves with the rows copied. */
export async function copyIn(
  client: pg.ClientBase,
  target: string,
  data: Buffer | string,
): Promise<number> {
  const buffer = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return (await run(client, `COPY ${target} FROM STDIN`, [buffer])).rows;
}

/** `COPY <source> TO STDOUT` (text format): the rows as COPY FROM reads them. */
export async function copyOut(client: pg.ClientBase, source: string): Promise<Buffer> {
  return (await run(client, `COPY ${source} TO STDOUT`, [])).data;
}

/** How a value of a column is written in COPY's text format. */
export type ColumnKind = "scalar" | "bool" | "json" | "array";

/** Backslash escapes of COPY's text format (the column and row separators, the escape itself). */
function escapeCopy(text: string): string {
  return /[\\\n\r\t]/.test(text)
    ? text.replace(/[\\\n\r\t]/g, (c) => {
        if (c === "\n") return "\\n";
        if (c === "\r") return "\\r";
        if (c === "\t") return "\\t";
        return "\\\\";
      })
    : text;
}

/** A PostgreSQL array literal of text elements ({"a","b"}; NULL for null). */
export function arrayLiteral(values: unknown[]): string {
  const items = values.map((v) =>
    v === null || v === undefined
      ? "NULL"
      : `"${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`,
  );
  return `{${items.join(",")}}`;
}

/** A value as its column's text input form (null stays null): the form both COPY and casts read. */
export function textValue(value: unknown, kind: ColumnKind): string | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "json":
      return JSON.stringify(value);
    case "array":
      if (!Array.isArray(value)) throw new Error(`expected an array, got ${JSON.stringify(value)}`);
      return arrayLiteral(value);
    case "bool":
      if (typeof value !== "boolean") {
        throw new Error(`expected a boolean, got ${JSON.stringify(value)}`);
      }
      return value ? "t" : "f";
    default:
      if (typeof value === "object") {
        throw new Error(`expected a scalar, got ${JSON.stringify(value)}`);
      }
      return String(value);
  }
}

/** One COPY text-format line for `values` (already in text input form). */
export function copyLine(values: (string | null)[]): string {
  let line = "";
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? null;
    if (i > 0) line += "\t";
    line += v === null ? "\\N" : escapeCopy(v);
  }
  return `${line}\n`;
}
