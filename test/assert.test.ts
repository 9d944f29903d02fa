import { describe, expect, it } from "vitest";
import { matchJsonValue, matchText, readJsonPath, truncateForReport } from "../src/probe/assert.js";

describe("matchText", () => {
  it("treats a plain string as equals", () => {
    expect(matchText("body", "ok", "ok")).toEqual([]);
    expect(matchText("body", "no", "ok")).toEqual([
      { subject: "body", expected: 'equals "ok"', actual: "no" },
    ]);
  });

  it("collects every failed part of one matcher under one subject", () => {
    const [mismatch] = matchText("body", "<b>x</b>", {
      contains: ["&lt;b&gt;", "x"],
      notContains: "<b>",
      regex: "^y",
    });
    expect(mismatch).toEqual({
      subject: "body",
      expected: ['contains "&lt;b&gt;"', 'does not contain "<b>"', "matches /^y/"],
      actual: "<b>x</b>",
    });
  });

  it("reports a missing header as such", () => {
    expect(matchText("header x-a", null, { contains: "a" })).toEqual([
      { subject: "header x-a", expected: "present", actual: "(missing)" },
    ]);
  });
});

describe("readJsonPath", () => {
  const doc = { count: 3, items: [{ name: "a" }, { name: "b" }], nested: { deep: { value: null } } };
  it("reads dotted paths, indexes and a leading $", () => {
    expect(readJsonPath(doc, "count")).toBe(3);
    expect(readJsonPath(doc, "$.count")).toBe(3);
    expect(readJsonPath(doc, "items[1].name")).toBe("b");
    expect(readJsonPath(doc, "nested.deep.value")).toBeNull();
  });
  it("returns undefined for what is not there", () => {
    expect(readJsonPath(doc, "missing")).toBeUndefined();
    expect(readJsonPath(doc, "items[5].name")).toBeUndefined();
    expect(readJsonPath(doc, "count.more")).toBeUndefined();
  });
});

describe("matchJsonValue", () => {
  it("compares deeply and lets numbers match numeric strings", () => {
    expect(matchJsonValue({ a: [1, "x"] }, { a: [1, "x"] })).toBe(true);
    expect(matchJsonValue({ a: [1, "x"], b: 1 }, { a: [1, "x"] })).toBe(false);
    expect(matchJsonValue("42", 42)).toBe(true);
    expect(matchJsonValue("", 0)).toBe(false);
  });
  it("supports $gt, $gte, $lt, $lte and $ne on numbers", () => {
    expect(matchJsonValue(5, { $gt: 4 })).toBe(true);
    expect(matchJsonValue(4, { $gt: 4 })).toBe(false);
    expect(matchJsonValue(4, { $gte: "4" })).toBe(true);
    expect(matchJsonValue(3, { $lt: 4 })).toBe(true);
    expect(matchJsonValue(4, { $lte: 3 })).toBe(false);
    expect(matchJsonValue(4, { $ne: 3 })).toBe(true);
    expect(matchJsonValue(null, { $lt: 3 })).toBe(false);
    expect(matchJsonValue("abc", { $gt: 1 })).toBe(false);
  });
});

describe("truncateForReport", () => {
  it("keeps both ends of a long body", () => {
    const text = `${"a".repeat(500)}MIDDLE${"z".repeat(500)}`;
    const cut = truncateForReport(text, 100);
    expect(cut.length).toBeLessThan(130);
    expect(cut.startsWith("aaaa")).toBe(true);
    expect(cut.endsWith("zzzz")).toBe(true);
    expect(cut).toContain("more chars");
  });
});
