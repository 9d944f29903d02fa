import { request as undiciRequest } from "undici";
import { type Mismatch, matchJsonValue, matchText, readJsonPath, truncateForReport } from "../assert.js";
import type { RequestStep } from "../suite.js";
import type { StepContext, StepOutcome } from "../types.js";

/** Sends one HTTP request to the worker, checks `expect`, and stores `capture`d values in ctx.vars. */
export async function runRequestStep(step: RequestStep, ctx: StepContext): Promise<StepOutcome> {
  const { method, path, headers = {}, form, json, text, timeout } = step.request;
  const timeoutMs = timeout * 1000;
  const sent: Record<string, string> = { ...headers };
  let body: string | undefined;
  if (form !== undefined) {
    body = new URLSearchParams(form).toString();
    sent["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (json !== undefined) {
    body = JSON.stringify(json);
    sent["content-type"] ??= "application/json";
  } else if (text !== undefined) {
    body = text;
    sent["content-type"] ??= "text/plain; charset=utf-8";
  }

  const url = `${ctx.baseUrl}${path}`;
  let status: number;
  let responseHeaders: Record<string, string | string[] | undefined>;
  let responseText: string;
  try {
    const response = await undiciRequest(url, {
      method,
      headers: sent,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
    });
    status = response.statusCode;
    responseHeaders = response.headers;
    responseText = await response.body.text();
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const reason =
      (error as Error).name === "TimeoutError" ? `no answer within ${timeout} s` : (error as Error).message;
    return {
      status: "fail",
      message: `${method} ${path} failed: ${reason}.`,
      expected: "an HTTP response",
      actual: reason,
    };
  }

  const header = (name: string) => {
    const value = responseHeaders[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  };
  let parsed: { ok: true; value: unknown } | { ok: false; error: string } | undefined;
  const parsedJson = () => {
    if (!parsed) {
      try {
        parsed = { ok: true, value: JSON.parse(responseText) };
      } catch (error) {
        parsed = { ok: false, error: (error as Error).message };
      }
    }
    return parsed;
  };

  const mismatches: Mismatch[] = [];
  const expect = step.expect ?? {};
  if (expect.status !== undefined) {
    const allowed = Array.isArray(expect.status) ? expect.status : [expect.status];
    if (!allowed.includes(status)) {
      mismatches.push({
        subject: "status",
        expected: allowed.length === 1 ? allowed[0] : allowed,
        actual:
          status === 500 || status >= 400 ? `${status} ${truncateForReport(responseText, 200)}` : status,
      });
    }
  }
  for (const [name, matcher] of Object.entries(expect.headers ?? {})) {
    mismatches.push(...matchText(`header ${name}`, header(name), matcher));
  }
  if (expect.body !== undefined) mismatches.push(...matchText("body", responseText, expect.body));
  for (const [jsonPath, expected] of Object.entries(expect.json ?? {})) {
    const document = parsedJson();
    if (!document.ok) {
      mismatches.push({
        subject: `json ${jsonPath}`,
        expected,
        actual: `not JSON (${truncateForReport(responseText, 120)})`,
      });
      continue;
    }
    const actual = readJsonPath(document.value, jsonPath);
    if (!matchJsonValue(actual, expected)) {
      mismatches.push({ subject: `json ${jsonPath}`, expected, actual: actual ?? "(missing)" });
    }
  }
  if (mismatches.length > 0) return failure(method, path, mismatches);

  for (const [name, source] of Object.entries(step.capture ?? {})) {
    let value: unknown;
    let from: string;
    if ("json" in source) {
      from = `JSON path "${source.json}"`;
      const document = parsedJson();
      value = document.ok ? readJsonPath(document.value, source.json) : undefined;
    } else if ("regex" in source) {
      from = `/${source.regex}/`;
      const match = new RegExp(source.regex).exec(responseText);
      value = match ? (match[1] ?? match[0]) : undefined;
    } else {
      from = `header ${source.header}`;
      value = header(source.header) ?? undefined;
    }
    if (typeof value !== "string" && typeof value !== "number") {
      return {
        status: "fail",
        message: `${method} ${path}: could not capture ${name} from ${from}.`,
        expected: `a value at ${from}`,
        actual: truncateForReport(responseText),
      };
    }
    ctx.vars.set(name, value);
  }
  return { status: "pass" };
}

function failure(method: string, path: string, mismatches: Mismatch[]): StepOutcome {
  return {
    status: "fail",
    message: `${method} ${path}: ${mismatches.map((mismatch) => mismatch.subject).join(", ")} not as expected.`,
    expected: Object.fromEntries(mismatches.map((mismatch) => [mismatch.subject, mismatch.expected])),
    actual: Object.fromEntries(mismatches.map((mismatch) => [mismatch.subject, mismatch.actual])),
  };
}
