import { readFileSync } from "node:fs";
import path from "node:path";
import { type ParseError, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { usageError } from "../errors.js";

/** The file names wrangler looks for, in the order it prefers them. */
export const CONFIG_FILE_NAMES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"] as const;

export interface D1Binding {
  binding: string;
  databaseName?: string;
  databaseId?: string;
  previewDatabaseId?: string;
  migrationsDir?: string;
}

/** What cfprobe needs from a wrangler config, with one environment's overrides applied. */
export interface WorkerConfig {
  /** Absolute path of the config file. */
  path: string;
  /** Folder of the config file; relative paths in it are relative to this. */
  dir: string;
  name?: string;
  /** Entry module, absolute. */
  main?: string;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  d1Databases: D1Binding[];
  vars: Record<string, unknown>;
  /** Bindings of kinds other than D1 and vars (KV, R2, services ...), for runtimes that lack them. */
  otherBindings: OtherBinding[];
  /** Environments declared under [env.*]. */
  environments: string[];
  /** The environment applied, if any. */
  env?: string;
  /** A Python Worker: its entry module is a .py file. */
  isPython: boolean;
}

export interface OtherBinding {
  /** The config key, e.g. kv_namespaces. */
  kind: string;
  /** The binding name (env.NAME), when the section names one. */
  name?: string;
}

/** wrangler config sections that declare bindings cfprobe does not model. */
const OTHER_BINDING_KEYS = [
  "kv_namespaces",
  "r2_buckets",
  "durable_objects",
  "services",
  "queues",
  "analytics_engine_datasets",
  "vectorize",
  "hyperdrive",
  "ai",
  "browser",
  "images",
  "workflows",
  "send_email",
  "dispatch_namespaces",
  "mtls_certificates",
  "version_metadata",
  "assets",
] as const;

type Raw = Record<string, unknown>;

/** Reads wrangler.toml / wrangler.json / wrangler.jsonc without loading wrangler (about 1.3 s). */
export function readWorkerConfig(configPath: string, options: { env?: string } = {}): WorkerConfig {
  const absolute = path.resolve(configPath);
  const raw = parseConfigFile(absolute);
  const dir = path.dirname(absolute);
  const environments = isRecord(raw.env) ? Object.keys(raw.env) : [];

  let effective: Raw = raw;
  if (options.env) {
    const overrides = isRecord(raw.env) ? raw.env[options.env] : undefined;
    if (!isRecord(overrides)) {
      throw usageError("config-env-unknown", `${absolute} has no environment "${options.env}".`, {
        hint: environments.length
          ? `Environments there: ${environments.join(", ")}.`
          : "It declares no [env.*] sections; drop --env.",
      });
    }
    effective = applyEnvironment(raw, overrides, options.env);
  }

  const main = optionalString(effective, "main", absolute);
  const flags = effective.compatibility_flags ?? [];
  if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === "string")) {
    throw invalidField(absolute, "compatibility_flags", "a list of strings");
  }
  return {
    path: absolute,
    dir,
    name: optionalString(effective, "name", absolute),
    main: main === undefined ? undefined : path.resolve(dir, main),
    compatibilityDate: optionalString(effective, "compatibility_date", absolute),
    compatibilityFlags: flags as string[],
    d1Databases: readD1Bindings(effective.d1_databases, absolute, dir),
    vars: isRecord(effective.vars) ? effective.vars : {},
    otherBindings: readOtherBindings(effective),
    environments,
    env: options.env,
    isPython: main?.endsWith(".py") ?? false,
  };
}

/**
 * Wrangler's environment rules: `name` becomes `<name>-<env>`, main and compatibility settings are
 * inherited unless overridden, and bindings such as d1_databases and vars are not inherited.
 */
function applyEnvironment(top: Raw, overrides: Raw, env: string): Raw {
  const inherited: Raw = {};
  for (const key of ["main", "compatibility_date", "compatibility_flags"]) {
    if (key in top) inherited[key] = top[key];
  }
  const name = typeof top.name === "string" ? `${top.name}-${env}` : undefined;
  return { ...inherited, ...(name ? { name } : {}), ...overrides };
}

function readD1Bindings(value: unknown, file: string, dir: string): D1Binding[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidField(file, "d1_databases", "a list of tables");
  return value.map((entry, index) => {
    const where = `d1_databases[${index}]`;
    if (!isRecord(entry)) throw invalidField(file, where, "a table");
    const binding = entry.binding;
    if (typeof binding !== "string" || binding === "") {
      throw invalidField(file, `${where}.binding`, "a non-empty string");
    }
    const migrations = optionalString(entry, "migrations_dir", file, where);
    return {
      binding,
      databaseName: optionalString(entry, "database_name", file, where),
      databaseId: optionalString(entry, "database_id", file, where),
      previewDatabaseId: optionalString(entry, "preview_database_id", file, where),
      migrationsDir: path.resolve(dir, migrations ?? "migrations"),
    };
  });
}

function readOtherBindings(config: Raw): OtherBinding[] {
  return OTHER_BINDING_KEYS.flatMap((kind) => {
    const value = config[kind];
    if (value === undefined) return [];
    // durable_objects nests its list under `bindings`; ai, browser and images are single tables.
    const section = kind === "durable_objects" && isRecord(value) ? value.bindings : value;
    const entries = Array.isArray(section) ? section : [section];
    return entries.map((entry) => {
      const name = isRecord(entry) ? (entry.binding ?? entry.name) : undefined;
      return typeof name === "string" ? { kind, name } : { kind };
    });
  });
}

function parseConfigFile(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw usageError("config-unreadable", `Cannot read the wrangler config ${file}.`, {
      hint: "Check the path, or point to a worker folder with --config.",
      cause: error,
    });
  }
  if (file.endsWith(".toml")) {
    try {
      const parsed = parseToml(text);
      return parsed as Raw;
    } catch (error) {
      throw usageError("config-invalid", `${file} is not valid TOML: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const errors: ParseError[] = [];
  const parsed = parseJsonc(text, errors, { allowTrailingComma: true });
  if (errors.length > 0 || !isRecord(parsed)) {
    const first = errors[0];
    const where = first ? ` (${printParseErrorCode(first.error)} at offset ${first.offset})` : "";
    throw usageError("config-invalid", `${file} is not a valid JSON config${where}.`);
  }
  return parsed;
}

function optionalString(record: Raw, key: string, file: string, where?: string) {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidField(file, where ? `${where}.${key}` : key, "a string");
  return value;
}

function invalidField(file: string, field: string, expected: string) {
  return usageError("config-invalid", `${file}: ${field} must be ${expected}.`);
}

function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
