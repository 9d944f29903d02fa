import type { ChunkedWriter } from "./sink.js";
import { jsonRowRenderer, type SqlValue, toCsvField, toDisplayCell } from "./values.js";

export const ROW_FORMATS = ["json", "ndjson", "csv", "table"] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

/** Rows of one table (a dump) or of one statement (a query), read lazily. */
export interface RowBlock {
  table?: string;
  columns: string[];
  rows: Iterable<SqlValue[]>;
}

export interface RowWriteOptions {
  /** json: an object of tables to rows (dump) instead of an array of rows (query). */
  keyedByTable: boolean;
  /** Called every few thousand rows, for progress. */
  onRows?: (rows: number, table?: string) => void;
  /** `table` format: the widest a cell may be. */
  cellWidth?: number;
}

const PROGRESS_EVERY = 8192;
const TABLE_SAMPLE = 200;

/** Streams blocks of rows in one format; returns the number of rows written. */
export async function writeRows(
  format: RowFormat,
  blocks: Iterable<RowBlock>,
  out: ChunkedWriter,
  options: RowWriteOptions,
): Promise<number> {
  let total = 0;
  /** Writes each row as `render` makes it; awaits the reader only when a chunk is full. */
  const each = async (block: RowBlock, render: (row: SqlValue[], index: number) => string) => {
    let index = 0;
    for (const row of block.rows) {
      if (out.push(render(row, index++))) await out.flush();
      if (++total % PROGRESS_EVERY === 0) options.onRows?.(total, block.table);
    }
    return index;
  };
  const keyed = options.keyedByTable;
  let blocksWritten = 0;
  let rowsBefore = 0;
  if (format === "json") await out.write(keyed ? "{" : "[");
  for (const block of blocks) {
    const first = blocksWritten++ === 0;
    if (format === "json") {
      if (keyed) await out.write(`${first ? "" : ","}\n${JSON.stringify(block.table)}: [`);
      const indent = keyed ? "  " : "";
      const render = jsonRowRenderer(block.columns);
      const written = await each(block, (row, i) => {
        const comma = i === 0 && (keyed || rowsBefore === 0) ? "" : ",";
        return `${comma}\n${indent}${render(row)}`;
      });
      if (keyed) await out.write(written === 0 ? "]" : "\n]");
      rowsBefore += written;
    } else if (format === "ndjson") {
      const render = jsonRowRenderer(block.columns);
      const prefix = block.table === undefined ? "" : `{"table":${JSON.stringify(block.table)},"row":`;
      const suffix = block.table === undefined ? "\n" : "}\n";
      await each(block, (row) => prefix + render(row) + suffix);
    } else if (format === "csv") {
      await out.write(`${block.columns.map(toCsvField).join(",")}\r\n`);
      await each(block, (row) => `${row.map(toCsvField).join(",")}\r\n`);
    } else {
      total += await writeTable(block, out, options.cellWidth ?? 40, first);
    }
  }
  if (format === "json") await out.write(keyed ? "\n}\n" : rowsBefore === 0 ? "]\n" : "\n]\n");
  return total;
}

/**
 * Aligned columns for people. Widths come from the header and the first rows, so the output
 * streams; later, wider cells are cut like long ones.
 */
async function writeTable(block: RowBlock, out: ChunkedWriter, cellWidth: number, first: boolean) {
  if (block.table !== undefined) await out.write(`${first ? "" : "\n"}${block.table}\n`);
  const iterator = block.rows[Symbol.iterator]();
  let count = 0;
  try {
    const sample: SqlValue[][] = [];
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      sample.push(next.value);
      if (sample.length === TABLE_SAMPLE) break;
    }
    const widths = block.columns.map((column, i) =>
      Math.min(
        cellWidth,
        Math.max(column.length, ...sample.map((row) => toDisplayCell(row[i]!, cellWidth).length)),
      ),
    );
    const line = (cells: string[]) =>
      `${cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()}\n`;
    const render = (row: SqlValue[]) => line(row.map((value, i) => toDisplayCell(value, widths[i]!)));
    await out.write(line(block.columns.map((column, i) => toDisplayCell(column, widths[i]!))));
    await out.write(line(widths.map((width) => "-".repeat(width))));
    for (const row of sample) {
      await out.write(render(row));
      count++;
    }
    if (sample.length === TABLE_SAMPLE) {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        if (out.push(render(next.value))) await out.flush();
        count++;
      }
    }
  } finally {
    // A reader that stops early (EPIPE) must not leave the statement busy.
    iterator.return?.();
  }
  if (count === 0) await out.write("(no rows)\n");
  return count;
}
