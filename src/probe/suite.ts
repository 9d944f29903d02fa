import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { usageError } from "../errors.js";
import { PACKAGE_ROOT } from "../project/target.js";
import { type BrowserStep, browserStepSchema } from "./browser/schema.js";

/** The default suite: the route contract both bundled workers follow (README, "The bundled workers"). */
export const DEFAULT_SUITE = path.join(PACKAGE_ROOT, "fixtures", "suites", "default.json");

const validRegex = (value: string) => {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
};
const regex = z.string().refine(validRegex, { message: "is not a valid regular expression" });
const oneOrMore = z.union([z.string(), z.array(z.string()).min(1)]);

/** A text expectation: a plain string means "equals". */
export const matcherSchema = z.union([
  z.string(),
  z
    .strictObject({
      equals: z.string().optional(),
      contains: oneOrMore.optional(),
      notContains: oneOrMore.optional(),
      regex: regex.optional(),
    })
    .refine((matcher) => Object.keys(matcher).length > 0, {
      message: "needs equals, contains, notContains or regex",
    }),
]);

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a variable name (letters, digits, _)");

export const requestStepSchema = z.strictObject({
  name: z.string().optional(),
  request: z
    .strictObject({
      method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]).default("GET"),
      path: z.string().startsWith("/", { message: 'must start with "/"' }),
      headers: z.record(z.string(), z.string()).optional(),
      form: z.record(z.string(), z.string()).optional(),
      json: z.unknown().optional(),
      text: z.string().optional(),
      timeout: z.number().positive().max(600).default(10),
    })
    .refine(
      (request) =>
        [request.form, request.json, request.text].filter((body) => body !== undefined).length <= 1,
      {
        message: "takes at most one body: form, json or text",
      },
    ),
  expect: z
    .strictObject({
      status: z.union([z.number().int(), z.array(z.number().int()).min(1)]).optional(),
      headers: z.record(z.string(), matcherSchema).optional(),
      body: matcherSchema.optional(),
      json: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  capture: z
    .record(
      variableName,
      z.union([
        z.strictObject({ json: z.string() }),
        z.strictObject({ regex }),
        z.strictObject({ header: z.string() }),
      ]),
    )
    .optional(),
});

export const restartStepSchema = z.strictObject({ restart: z.literal(true) });

export const dbStepSchema = z.strictObject({
  db: z.strictObject({
    binding: z.string().optional(),
    sql: z.string().min(1),
    params: z.array(z.union([z.string(), z.number(), z.null()])).optional(),
    expect: z.strictObject({ rows: z.array(z.record(z.string(), z.unknown())) }),
  }),
});

/** Step kinds by their one distinguishing key. */
export const STEP_SCHEMAS = {
  request: requestStepSchema,
  restart: restartStepSchema,
  db: dbStepSchema,
  browser: browserStepSchema,
} as const;

export type StepKind = keyof typeof STEP_SCHEMAS;
export type RequestStep = z.output<typeof requestStepSchema>;
export type DbStep = z.output<typeof dbStepSchema>;
export type Matcher = z.output<typeof matcherSchema>;
export type Step =
  | ({ kind: "request" } & RequestStep)
  | ({ kind: "restart" } & z.output<typeof restartStepSchema>)
  | ({ kind: "db" } & DbStep)
  | ({ kind: "browser" } & BrowserStep);

export interface Check {
  name: string;
  steps: Step[];
}

export interface Suite {
  name: string;
  file: string;
  checks: Check[];
}

const suiteShape = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  checks: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        steps: z.array(z.record(z.string(), z.unknown())).min(1),
      }),
    )
    .min(1),
});

export function loadSuite(file: string): Suite {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (error) {
    throw usageError("suite-unreadable", `Cannot read the suite ${absolute}.`, {
      hint: "Check the path given to --suite.",
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(absolute) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw usageError(
      "suite-invalid",
      `${absolute} is not valid ${/\.ya?ml$/i.test(absolute) ? "YAML" : "JSON"}: ${(error as Error).message}`,
    );
  }
  return parseSuite(value, absolute);
}

/** Validates a suite document; an error names the file and the path of the bad field. */
export function parseSuite(value: unknown, file: string): Suite {
  const shape = suiteShape.safeParse(value);
  if (!shape.success) throw invalidSuite(file, shape.error, []);
  const checks = shape.data.checks.map((check, checkIndex) => ({
    name: check.name,
    steps: check.steps.map((raw, stepIndex) =>
      parseStep(raw, file, ["checks", checkIndex, "steps", stepIndex]),
    ),
  }));
  return { name: shape.data.name ?? path.basename(file), file, checks };
}

function parseStep(raw: Record<string, unknown>, file: string, at: Array<string | number>): Step {
  const kinds = Object.keys(STEP_SCHEMAS).filter((kind) => kind in raw) as StepKind[];
  if (kinds.length !== 1) {
    throw usageError(
      "suite-invalid",
      `${file}: ${formatPath(at)} must have exactly one of ${Object.keys(STEP_SCHEMAS).join(", ")}${
        kinds.length ? ` (it has ${kinds.join(" and ")})` : ""
      }.`,
    );
  }
  const kind = kinds[0] as StepKind;
  const parsed = STEP_SCHEMAS[kind].safeParse(raw);
  if (!parsed.success) throw invalidSuite(file, parsed.error, at);
  return { kind, ...parsed.data } as Step;
}

function invalidSuite(file: string, error: z.ZodError, at: Array<string | number>) {
  const issues = error.issues.map((issue) => {
    const where = formatPath([...at, ...(issue.path as Array<string | number>)]);
    return `${where || "(top level)"}: ${issue.message}`;
  });
  return usageError("suite-invalid", `${file}: ${issues[0]}`, {
    details: issues.slice(1),
    hint: "Fix the field named above; the README's 'Suites' section shows every step kind.",
  });
}

export function formatPath(parts: ReadonlyArray<string | number | symbol>): string {
  return parts
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index ? "." : ""}${String(part)}`))
    .join("");
}

/** Whether any step of the suite drives a browser. */
export function usesBrowser(suite: Suite): boolean {
  return suite.checks.some((check) => check.steps.some((step) => step.kind === "browser"));
}
