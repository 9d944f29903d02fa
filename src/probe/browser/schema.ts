import { z } from "zod";

/**
 * The `browser` step: open a page of the worker in headless Chromium, then act and expect in order.
 * Each action is an object with exactly one key, so a suite reads as a script:
 *
 *   { "browser": { "path": "/form", "actions": [
 *       { "fill": { "field": "Name", "value": "Ada" } },
 *       { "submit": true },
 *       { "waitForNavigation": true },
 *       { "expectText": "Ada" } ] } }
 *
 * Actions (fill, click, submit) act on the page as it is; expectations wait until they hold or
 * the step's timeout runs out. README, "Browser steps", is the user-facing description.
 */

const nonEmpty = z.string().min(1, { message: "must not be empty" });

/** The marker an injected test script sets; `expectNoScript` fails when any page set it. */
export const INJECTION_MARKER = "__cfprobeInjected";

const ACTION_SHAPE = {
  /** Types into a form field found by its label text or its name attribute (exact match). */
  fill: z.strictObject({ field: nonEmpty, value: z.string() }),
  /** Clicks a button or link by its visible name. */
  click: nonEmpty,
  /** Clicks the submit button of the form being filled (or of the page's only form). */
  submit: z.literal(true),
  /** Waits until a new page has loaded since the last click or submit. */
  waitForNavigation: z.literal(true),
  /** The page's visible text contains this. */
  expectText: nonEmpty,
  /** An element matching this CSS selector is visible. */
  expectElement: nonEmpty,
  /** A form field with this label or name is visible and editable. */
  expectField: nonEmpty,
  /** The page title equals this. */
  expectTitle: z.string(),
  /** No dialog opened during the step and no page set window.__cfprobeInjected. */
  expectNoScript: z.literal(true),
};

export const ACTION_KINDS = Object.keys(ACTION_SHAPE) as Array<keyof typeof ACTION_SHAPE>;

/**
 * One object with optional keys rather than a union of one-key objects: a mistake is then
 * reported at the exact field (`actions[2].fill.field`) instead of as "no union member matched".
 */
export const browserActionSchema = z
  .strictObject(
    Object.fromEntries(ACTION_KINDS.map((kind) => [kind, ACTION_SHAPE[kind].optional()])) as {
      [K in keyof typeof ACTION_SHAPE]: z.ZodOptional<(typeof ACTION_SHAPE)[K]>;
    },
  )
  .refine((action) => Object.values(action).filter((value) => value !== undefined).length === 1, {
    message: `must have exactly one of ${ACTION_KINDS.join(", ")}`,
  });

export const browserStepSchema = z.strictObject({
  name: z.string().optional(),
  browser: z.strictObject({
    path: z.string().startsWith("/", { message: 'must start with "/"' }),
    actions: z.array(browserActionSchema).min(1, { message: "needs at least one action" }),
    /** Seconds the whole step may take, starting Chromium included. */
    timeout: z.number().positive().max(600).default(20),
  }),
});

export type BrowserStep = z.output<typeof browserStepSchema>;
export type BrowserAction = z.output<typeof browserActionSchema>;

/** A short name for an action in messages, e.g. `fill "Name"` or `expectTitle "Message received"`. */
export function describeAction(action: BrowserAction): string {
  if (action.fill) return `fill ${JSON.stringify(action.fill.field)}`;
  const [key, value] = Object.entries(action).find(([, value]) => value !== undefined) as [string, unknown];
  return value === true ? key : `${key} ${JSON.stringify(value)}`;
}
