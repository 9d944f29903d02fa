import type { Matcher } from "./suite.js";

/** One failed expectation: what was looked at, what should have held, and what was there. */
export interface Mismatch {
  /** "status", "body", "header content-type", "json count" … */
  subject: string;
  expected: unknown;
  actual: unknown;
}

const MAX_SHOWN = 300;

/** Long bodies are cut in the middle, keeping both ends, so a failure line stays readable. */
export function truncateForReport(text: string, max = MAX_SHOWN): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 20) / 2);
  return `${text.slice(0, half)} …[${text.length - 2 * half} more chars]… ${text.slice(-half)}`;
}

const asList = (value: string | string[] | undefined) =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Checks text against a matcher; returns what did not hold. */
export function matchText(subject: string, actual: string | null, matcher: Matcher): Mismatch[] {
  const spec = typeof matcher === "string" ? { equals: matcher } : matcher;
  const failed: string[] = [];
  if (actual === null) {
    failed.push("present");
  } else {
    if (spec.equals !== undefined && actual !== spec.equals)
      failed.push(`equals ${JSON.stringify(spec.equals)}`);
    for (const part of asList(spec.contains)) {
      if (!actual.includes(part)) failed.push(`contains ${JSON.stringify(part)}`);
    }
    for (const part of asList(spec.notContains)) {
      if (actual.includes(part)) failed.push(`does not contain ${JSON.stringify(part)}`);
    }
    if (spec.regex !== undefined && !new RegExp(spec.regex).test(actual))
      failed.push(`matches /${spec.regex}/`);
  }
  if (failed.length === 0) return [];
  return [
    {
      subject,
      expected: failed.length === 1 ? failed[0] : failed,
      actual: actual === null ? "(missing)" : truncateForReport(actual),
    },
  ];
}

const COMPARISONS = {
  $gt: (a: number, b: number) => a > b,
  $gte: (a: number, b: number) => a >= b,
  $lt: (a: number, b: number) => a < b,
  $lte: (a: number, b: number) => a <= b,
  $ne: (a: number, b: number) => a !== b,
} as const;

/**
 * A JSON expectation: a plain value means deep equality; `{"$gt": n}` (also $gte, $lt, $lte, $ne)
 * compares numbers, e.g. "the count went up" without saying by how much.
 */
export function matchJsonValue(actual: unknown, expected: unknown): boolean {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    const entries = Object.entries(expected);
    const [first] = entries;
    if (entries.length === 1 && first && first[0] in COMPARISONS) {
      const [operator, bound] = first;
      const left = Number(actual);
      const right = Number(bound);
      return (
        actual !== null &&
        actual !== "" &&
        Number.isFinite(left) &&
        Number.isFinite(right) &&
        COMPARISONS[operator as keyof typeof COMPARISONS](left, right)
      );
    }
  }
  return jsonEquals(actual, expected);
}

/**
 * Reads a value by a small JSON path: `count`, `$.count`, `items[0].name`, `a.b`. Returns
 * `undefined` for a path that is not there.
 */
export function readJsonPath(document: unknown, jsonPath: string): unknown {
  const parts = jsonPath
    .replace(/^\$\.?/, "")
    .split(/\.|(?=\[)/)
    .filter(Boolean);
  let current: unknown = document;
  for (const part of parts) {
    const index = /^\[(\d+)\]$/.exec(part);
    if (index) {
      if (!Array.isArray(current)) return undefined;
      current = current[Number(index[1])];
    } else {
      if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
      current = (current as Record<string, unknown>)[part];
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/** Deep equality for JSON values; numbers and numeric strings from placeholders compare as values. */
export function jsonEquals(actual: unknown, expected: unknown): boolean {
  if (typeof expected === "number" && typeof actual === "string")
    return actual.trim() !== "" && Number(actual) === expected;
  if (typeof expected === "string" && typeof actual === "number")
    return expected.trim() !== "" && Number(expected) === actual;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => jsonEquals(actual[i], item))
    );
  }
  if (expected && typeof expected === "object") {
    if (!actual || typeof actual !== "object" || Array.isArray(actual)) return false;
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].every((key) =>
      jsonEquals((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key]),
    );
  }
  return Object.is(actual, expected);
}
