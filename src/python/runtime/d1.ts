import path from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { Pool } from "undici";

/**
 * Real D1 for the Pyodide runtime: Miniflare (wrangler's own local runtime) holds the databases,
 * persisted under `<persist-to>/v3` exactly as `wrangler dev --persist-to` does, so the sqlite files
 * are the very ones wrangler, `cfprobe db` and later `wrangler dev` use. A small worker inside it
 * runs each statement on the binding; the D1 objects handed to Python mirror D1's API.
 */

const BRIDGE_WORKER = `
const decode = (value) => (value && typeof value === "object" && Array.isArray(value.$bytes) ? new Uint8Array(value.$bytes) : value);
const encode = (value) => (value instanceof ArrayBuffer ? Array.from(new Uint8Array(value)) : value);
const encodeRows = (rows) => rows.map((row) => Array.isArray(row) ? row.map(encode) : Object.fromEntries(Object.entries(row).map(([k, v]) => [k, encode(v)])));
const statement = (db, s) => db.prepare(s.sql).bind(...s.params.map(decode));
function encodeResult(result) {
  return result && Array.isArray(result.results) ? { ...result, results: encodeRows(result.results) } : result;
}
export default {
  async fetch(request, env) {
    const call = await request.json();
    const db = env[call.binding];
    try {
      let value;
      if (call.op === "first") {
        value = await statement(db, call.statement).first(call.column ?? undefined);
        value = value && typeof value === "object" && !(value instanceof ArrayBuffer) ? encodeRows([value])[0] : encode(value);
      } else if (call.op === "all") value = encodeResult(await statement(db, call.statement).all());
      else if (call.op === "run") value = encodeResult(await statement(db, call.statement).run());
      else if (call.op === "raw") {
        value = encodeRows(await statement(db, call.statement).raw({ columnNames: Boolean(call.columnNames) }));
      } else if (call.op === "batch") value = (await db.batch(call.statements.map((s) => statement(db, s)))).map(encodeResult);
      else if (call.op === "exec") value = await db.exec(call.sql);
      else throw new Error("unknown D1 operation " + call.op);
      return Response.json({ value: value ?? null });
    } catch (error) {
      return Response.json({ error: String(error && error.message ? error.message : error) });
    }
  },
};
`;

type Call = Record<string, unknown> & { binding: string; op: string };
type Send = (call: Call) => Promise<unknown>;

interface EncodedStatement {
  sql: string;
  params: unknown[];
}

/** Python's None arrives as undefined: D1 stores it as NULL, which is what a Python author means. */
function encodeParam(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof ArrayBuffer) return { $bytes: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  return value;
}

export class LocalD1PreparedStatement {
  constructor(
    private readonly send: Send,
    private readonly binding: string,
    readonly sql: string,
    readonly params: unknown[] = [],
  ) {}

  bind(...params: unknown[]): LocalD1PreparedStatement {
    return new LocalD1PreparedStatement(this.send, this.binding, this.sql, params.map(encodeParam));
  }

  encoded(): EncodedStatement {
    return { sql: this.sql, params: this.params };
  }

  first(column?: string) {
    return this.send({ binding: this.binding, op: "first", statement: this.encoded(), column });
  }

  all() {
    return this.send({ binding: this.binding, op: "all", statement: this.encoded() });
  }

  run() {
    return this.send({ binding: this.binding, op: "run", statement: this.encoded() });
  }

  raw(options: { columnNames?: boolean } = {}) {
    return this.send({
      binding: this.binding,
      op: "raw",
      statement: this.encoded(),
      columnNames: options.columnNames,
    });
  }
}

export class LocalD1Database {
  constructor(
    private readonly send: Send,
    private readonly binding: string,
  ) {}

  prepare(sql: string): LocalD1PreparedStatement {
    return new LocalD1PreparedStatement(this.send, this.binding, sql);
  }

  batch(statements: Iterable<LocalD1PreparedStatement>) {
    const list = [...statements].map((statement) => statement.encoded());
    return this.send({ binding: this.binding, op: "batch", statements: list });
  }

  exec(sql: string) {
    return this.send({ binding: this.binding, op: "exec", sql });
  }

  withSession() {
    return this;
  }
}

export interface LocalD1 {
  databases: Record<string, LocalD1Database>;
  dispose(): Promise<void>;
}

export async function startLocalD1(
  databases: readonly { binding: string; id: string }[],
  persistTo: string,
): Promise<LocalD1> {
  const mf = new Miniflare({
    modules: true,
    script: BRIDGE_WORKER,
    compatibilityDate: "2025-09-29",
    d1Databases: Object.fromEntries(databases.map((db) => [db.binding, db.id])),
    defaultPersistRoot: path.join(persistTo, "v3"),
    cf: false,
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
  });
  const url = await mf.ready;
  // A keep-alive pool straight to Miniflare's socket: about half the cost of dispatchFetch per call.
  const pool = new Pool(url.origin, { connections: 8 });
  const send: Send = async (call) => {
    const response = await pool.request({ path: "/", method: "POST", body: JSON.stringify(call) });
    const answer = (await response.body.json()) as { value?: unknown; error?: string };
    if (answer.error !== undefined) throw new Error(answer.error);
    return answer.value;
  };
  return {
    databases: Object.fromEntries(databases.map((db) => [db.binding, new LocalD1Database(send, db.binding)])),
    dispose: async () => {
      await pool.close();
      await mf.dispose();
    },
  };
}
