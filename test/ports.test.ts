import path from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT, resolveTarget } from "../src/project/target.js";
import { planPorts } from "../src/wrangler/session.js";

const js = resolveTarget("js");
const py = resolveTarget("py");
const other = resolveTarget(path.join(PACKAGE_ROOT, "workers", "js-worker"));

describe("planPorts", () => {
  it("gives js 8787 and py 8788 by default, moving clashes up", () => {
    expect(planPorts([js, py])).toEqual([8787, 8788]);
    expect(planPorts([js, other, py])).toEqual([8787, 8788, 8789]);
  });

  it("uses --port for one target, and 0 for all", () => {
    expect(planPorts([py], 9000)).toEqual([9000]);
    expect(planPorts([js, py], 0)).toEqual([0, 0]);
  });

  it("refuses one fixed port for several targets", () => {
    expect(() => planPorts([js, py], 9000)).toThrow(/cannot serve 2 targets/);
  });
});
