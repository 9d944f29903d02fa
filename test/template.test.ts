import { describe, expect, it } from "vitest";
import { evaluate, substitute, substituteString } from "../src/probe/template.js";

const vars = new Map<string, string | number>([
  ["count", 41],
  ["text", "7"],
  ["name", "Ada"],
]);

describe("templates", () => {
  it("keeps the type of a whole placeholder and interpolates mixed strings", () => {
    expect(substituteString("${count}", vars)).toBe(41);
    expect(substituteString("${count + 1}", vars)).toBe(42);
    expect(substituteString("n=${count + 1}, who=${name}", vars)).toBe("n=42, who=Ada");
    expect(substituteString("no placeholders", vars)).toBe("no placeholders");
  });

  it("does integer arithmetic with precedence, parentheses and unary minus", () => {
    expect(evaluate("2 + 3 * 4", vars)).toBe(14);
    expect(evaluate("(2 + 3) * 4", vars)).toBe(20);
    expect(evaluate("count - -1", vars)).toBe(42);
    expect(evaluate("7 / 2", vars)).toBe(3);
    expect(evaluate("text * 2", vars)).toBe(14);
  });

  it("substitutes inside nested objects and arrays", () => {
    expect(substitute({ a: ["${count}", { b: "x${name}" }], c: 1 }, vars)).toEqual({
      a: [41, { b: "xAda" }],
      c: 1,
    });
  });

  it("explains unknown variables, non-integers and syntax errors", () => {
    expect(() => evaluate("missing + 1", vars)).toThrow(
      /Unknown variable "missing" \(known: count, text, name\)/,
    );
    expect(() => evaluate("name + 1", vars)).toThrow(/"name" is "Ada", not an integer/);
    expect(() => evaluate("count +", vars)).toThrow(/ends too early/);
    expect(() => evaluate("count $ 1", vars)).toThrow(/Cannot read/);
    expect(() => evaluate("1 / 0", vars)).toThrow(/Division by zero/);
    expect(() => evaluate("(1", vars)).toThrow(/Missing "\)"/);
  });
});
