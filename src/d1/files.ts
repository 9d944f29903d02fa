import { createHash, createHmac } from "node:crypto";
import path from "node:path";
import type { D1Binding } from "../project/config.js";

/** The Durable Object class miniflare runs D1 in; its name is also the namespace's unique key. */
export const D1_OBJECT_CLASS = "miniflare-D1DatabaseObject";

/** The runtime's alarm scheduler, stored beside the databases; never a user database. */
export const METADATA_FILE = "metadata.sqlite";

/** Tables the runtime keeps in every database (`_cf_METADATA`, `_cf_KV`): hidden unless asked. */
export const INTERNAL_TABLE_PREFIX = "_cf_";

/** `<persist-to>/v3/d1/miniflare-D1DatabaseObject`, where wrangler dev keeps local D1 files. */
export function d1StateDir(persistTo: string): string {
  return path.join(persistTo, "v3", "d1", D1_OBJECT_CLASS);
}

/** The name workerd derives the object from, with wrangler's precedence (FACTS.md). */
export function d1ObjectName(binding: D1Binding): string {
  return binding.previewDatabaseId ?? binding.databaseId ?? binding.binding;
}

/**
 * workerd's `idFromName(name)` for the D1 namespace, as the file name it persists under:
 * key = SHA-256(unique key), a = HMAC(key, name)[0..16], b = HMAC(key, a)[0..16], hex(a || b).
 */
export function d1FileNameFor(name: string): string {
  const key = createHash("sha256").update(D1_OBJECT_CLASS).digest();
  const a = createHmac("sha256", key).update(name).digest().subarray(0, 16);
  const b = createHmac("sha256", key).update(a).digest().subarray(0, 16);
  return `${Buffer.concat([a, b]).toString("hex")}.sqlite`;
}
