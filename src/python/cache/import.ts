import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CfprobeError, ExitCode, usageError } from "../../errors.js";
import type { PyodideFile } from "../files.js";
import { isCheckableIntegrity, sriOfFile } from "./integrity.js";
import { PARTIAL_SUFFIX, writeAtomically } from "./store.js";

export interface ImportedFile {
  source: string;
  file: PyodideFile;
  path: string;
  verified: boolean;
}

/**
 * Places carried-over files into the cache at `root`. Each must be named as one of the `required`
 * files and match its integrity; nothing is written unless every file passes.
 */
export async function importFiles(
  root: string,
  required: PyodideFile[],
  inputs: string[],
): Promise<ImportedFile[]> {
  const sources = inputs.flatMap(expandInput);
  const byName = new Map(required.map((file) => [file.name, file]));
  const planned: Array<{ source: string; file: PyodideFile }> = [];
  const unknown: string[] = [];
  for (const source of sources) {
    const file = byName.get(path.basename(source));
    if (file) planned.push({ source, file });
    else unknown.push(source);
  }
  if (unknown.length > 0) {
    throw usageError(
      "import-unknown-file",
      `Not a file this workerd needs: ${unknown.map((source) => path.basename(source)).join(", ")}.`,
      {
        hint: "Keep the names `cfprobe python fetch --out DIR` gave the files; `cfprobe python fetch --print-urls` lists the expected names.",
        data: { expected: required.map((file) => file.name) },
      },
    );
  }
  for (const { source, file } of planned) {
    if (!isCheckableIntegrity(file.integrity)) continue;
    const actual = await sriOfFile(source);
    if (actual !== file.integrity) {
      throw new CfprobeError(
        "integrity-mismatch",
        `${source} does not match its integrity: expected ${file.integrity}, got ${actual}. Nothing was imported.`,
        ExitCode.failed,
        {
          hint: "Copy the file again from the machine where `cfprobe python fetch --out DIR` downloaded it.",
          data: { expected: file.integrity, actual },
        },
      );
    }
  }
  const imported: ImportedFile[] = [];
  for (const { source, file } of planned) {
    const destination = path.join(root, file.cachePath);
    await writeAtomically(destination, createReadStream(source), async (temporary) => {
      if (isCheckableIntegrity(file.integrity) && (await sriOfFile(temporary)) !== file.integrity) {
        throw new CfprobeError(
          "integrity-mismatch",
          `${source} changed while it was copied.`,
          ExitCode.failed,
        );
      }
    });
    imported.push({ source, file, path: destination, verified: isCheckableIntegrity(file.integrity) });
  }
  return imported;
}

/** A folder stands for the files in it (as `--out DIR` left them). */
function expandInput(input: string): string[] {
  if (!existsSync(input)) {
    throw usageError("import-missing-file", `${input} does not exist.`, {
      hint: "Pass the files that `cfprobe python fetch --out DIR` wrote, or the folder itself.",
    });
  }
  if (!statSync(input).isDirectory()) return [path.resolve(input)];
  return readdirSync(input, { withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith(PARTIAL_SUFFIX) && !entry.name.startsWith("."))
    .map((entry) => path.resolve(input, entry.name));
}
