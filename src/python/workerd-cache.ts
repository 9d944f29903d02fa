/**
 * The hook startWorker calls for every worker: for a Python worker it points wrangler at a workerd
 * wrapper that reads cfprobe's Pyodide cache, so a filled cache means no download at start.
 */
import path from "node:path";
import { CfprobeError } from "../errors.js";
import type { WorkerTarget } from "../project/target.js";
import { pyodideCacheRoot } from "./cache/location.js";
import { adoptWorkerdDownloads } from "./cache/store.js";
import { requiredPyodideFiles } from "./files.js";
import { installedWorkerd } from "./workerd.js";
import { createWorkerdWrapper } from "./wrapper.js";

export interface RuntimePreparation {
  /** Extra environment for wrangler. */
  env: Record<string, string>;
  /** Undoes what was prepared; safe to call more than once. */
  cleanup(): void;
  /** Why nothing was prepared for a Python worker (shown with --verbose). */
  skipped?: string;
}

const NOTHING: RuntimePreparation = { env: {}, cleanup: () => {} };

export async function prepareWorkerRuntime(
  target: WorkerTarget,
  env: NodeJS.ProcessEnv,
): Promise<RuntimePreparation> {
  if (target.runtime !== "python") return NOTHING;
  let required: Awaited<ReturnType<typeof requiredPyodideFiles>>;
  try {
    required = await requiredPyodideFiles(target, { env });
  } catch (error) {
    // wrangler reports a broken Python config better than we can; start it as it is.
    if (error instanceof CfprobeError) return { ...NOTHING, skipped: error.message };
    throw error;
  }
  const root = pyodideCacheRoot(required.workerdVersion, { env });
  const wrapper = createWorkerdWrapper({
    workerd: env.MINIFLARE_WORKERD_PATH || installedWorkerd().binary,
    bundleDir: root,
    packageDir: path.join(root, "python-package-bucket", required.packagesVersion),
  });
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    wrapper.remove();
    try {
      adoptWorkerdDownloads(root, required.files);
    } catch {
      // Only an optimisation for the next start; a failure here must not hide the run's outcome.
    }
  };
  return { env: { MINIFLARE_WORKERD_PATH: wrapper.path }, cleanup };
}
