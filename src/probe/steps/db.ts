import { locateDatabases, pickDatabase } from "../../d1/locate.js";
import { openReadOnly } from "../../d1/open.js";
import { matchJsonValue } from "../assert.js";
import type { DbStep } from "../suite.js";
import type { StepContext, StepOutcome } from "../types.js";

/**
 * Runs a read-only query on the local file of a D1 binding (the same reader as `cfprobe db`) and
 * compares the rows with the expected ones, in order.
 */
export async function runDbStep(step: DbStep, ctx: StepContext): Promise<StepOutcome> {
  const { binding, sql, params = [], expect } = step.db;
  if (!ctx.database) {
    return {
      status: "skip",
      message: "db steps read the worker's local D1 files: give --persist-to (and a target) with --url.",
    };
  }
  const { target, persistTo } = ctx.database;
  const located = pickDatabase(locateDatabases(target, persistTo), binding, target.config.path);
  if (!located.exists) {
    return {
      status: "fail",
      message: `D1 database ${binding ?? located.binding} has no local file yet (${located.file}).`,
      expected: expect.rows,
      actual: "no database file",
    };
  }
  const handle = openReadOnly(located.file);
  let rows: unknown[];
  try {
    rows = handle.db.prepare(sql).all(...params);
  } catch (error) {
    return {
      status: "fail",
      message: `SQL failed on ${located.binding ?? located.file}: ${(error as Error).message}`,
    };
  } finally {
    handle.close();
  }
  if (
    rows.length === expect.rows.length &&
    expect.rows.every((row, index) => matchJsonValue(rows[index], row))
  ) {
    return { status: "pass" };
  }
  return {
    status: "fail",
    message: `Rows of "${sql}" on ${located.binding ?? located.file} are not as expected.`,
    expected: { rows: expect.rows },
    actual: { rows },
  };
}
