import path from "node:path";
import type { DatabaseSummary } from "../../d1/inspect.js";
import { formatBytes } from "../../output/format.js";
import type { Output } from "../../output/output.js";

export interface Listing {
  dir?: string;
  config?: string;
  databases: DatabaseSummary[];
  unmatched: DatabaseSummary[];
  metadataFile?: string;
}

/** The human view of `db ls`: one block per database. */
export function renderSummaries(out: Output, listing: Listing): void {
  const { style } = out;
  if (listing.dir) out.result(style.dim(`D1 files in ${listing.dir}`));
  for (const db of listing.databases) renderOne(out, db);
  if (listing.unmatched.length) {
    out.result(
      style.yellow("\nunmatched files (no D1 binding of this config maps to them; another env or id?):"),
    );
    for (const db of listing.unmatched) renderOne(out, db);
  }
  if (listing.metadataFile) {
    out.result(
      style.dim(
        `\n${path.basename(listing.metadataFile)}: the runtime's alarm scheduler (_cf_ALARM), not a database.`,
      ),
    );
  }
}

function renderOne(out: Output, db: DatabaseSummary): void {
  const { style } = out;
  const title = db.binding
    ? `${style.bold(db.binding)}${db.databaseName ? ` (${db.databaseName})` : ""}  id ${db.id}`
    : style.bold(path.basename(db.file));
  out.result(`\n${title}`);
  out.result(`  file      ${db.file}`);
  if (!db.exists) {
    out.result(`  ${style.yellow("no file yet")} (wrangler creates it on first use)`);
    return;
  }
  const wal = db.walBytes ? ` (-wal ${formatBytes(db.walBytes)})` : "";
  out.result(`  size      ${formatBytes(db.sizeBytes ?? 0)}${wal}   modified ${db.modified}`);
  const tables = db.tables ?? [];
  const width = Math.max(0, ...tables.map((table) => table.name.length));
  if (tables.length === 0) out.result("  tables    none");
  tables.forEach((table, index) => {
    out.result(
      `  ${index === 0 ? "tables" : "      "}    ${table.name.padEnd(width)}  ${table.rows} ${table.rows === 1 ? "row" : "rows"}`,
    );
  });
  if (db.internalTables) out.result(style.dim(`  (+${db.internalTables} runtime _cf_* tables)`));
}
