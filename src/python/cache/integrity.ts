import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Subresource-integrity string of a sha256 digest: "sha256-" + base64. */
export function sriOfHash(hash: Hash): string {
  return `sha256-${hash.digest("base64")}`;
}

export async function sriOfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return sriOfHash(hash);
}

/** Only sha256 SRI is produced by workerd's tables; anything else is treated as unknown. */
export function isCheckableIntegrity(integrity: string | undefined): integrity is string {
  return integrity?.startsWith("sha256-") ?? false;
}
