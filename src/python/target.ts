import { defaultTarget, type ResolveOptions, resolveTarget, type WorkerTarget } from "../project/target.js";

/** The worker a python command works on: the one named, else the worker here, else the bundled py. */
export function resolvePythonTarget(spec: string | undefined, options: ResolveOptions): WorkerTarget {
  if (spec) return resolveTarget(spec, options);
  const here = defaultTarget(options);
  return here.runtime === "python" ? here : resolveTarget("py", options);
}
