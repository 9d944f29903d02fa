/** What cfprobe and the Pyodide runtime process (host.ts) agree on. */

/** A fatal start error is one line: this prefix, then {code, message, hint} as JSON. */
export const FATAL_PREFIX = "cfprobe-pyodide-error ";

/** Environment variable carrying the PyodidePlan as JSON. */
export const PLAN_ENV = "CFPROBE_PYODIDE_PLAN";
