import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { readWorkerConfig } from "../src/project/config.js";
import { PACKAGE_ROOT } from "../src/project/target.js";

/** Every config the project ships or tests with: fixtures/configs, fixtures/d1/*, workers/*. */
function fixtureConfigs(): string[] {
  const found: string[] = [];
  const configsDir = path.join(PACKAGE_ROOT, "fixtures", "configs");
  for (const name of readdirSync(configsDir)) found.push(path.join(configsDir, name));
  for (const parent of ["fixtures/d1", "workers"]) {
    const dir = path.join(PACKAGE_ROOT, parent);
    for (const name of readdirSync(dir)) {
      if (!statSync(path.join(dir, name)).isDirectory()) continue;
      for (const file of ["wrangler.toml", "wrangler.json", "wrangler.jsonc"]) {
        if (readdirSync(path.join(dir, name)).includes(file)) found.push(path.join(dir, name, file));
      }
    }
  }
  return found;
}

/** The fields cfprobe relies on, as wrangler's own reader normalizes them. */
function wranglerView(config: string, env: string | undefined) {
  const read = unstable_readConfig({ config, env }, { hideWarnings: true });
  return {
    name: read.name,
    main: read.main,
    compatibilityDate: read.compatibility_date,
    compatibilityFlags: read.compatibility_flags,
    d1Databases: read.d1_databases.map((db: (typeof read.d1_databases)[number]) => ({
      binding: db.binding,
      databaseName: db.database_name,
      databaseId: db.database_id,
      previewDatabaseId: db.preview_database_id,
      ...(db.migrations_dir ? { migrationsDir: path.resolve(path.dirname(config), db.migrations_dir) } : {}),
    })),
  };
}

function cfprobeView(config: string, env: string | undefined) {
  const read = readWorkerConfig(config, { env });
  return {
    name: read.name,
    main: read.main,
    compatibilityDate: read.compatibilityDate,
    compatibilityFlags: read.compatibilityFlags,
    d1Databases: read.d1Databases.map(({ migrationsDir, ...db }) => ({
      ...db,
      // cfprobe fills in wrangler's default folder; wrangler leaves the field out.
      ...(migrationsDir !== path.join(read.dir, "migrations") ? { migrationsDir } : {}),
    })),
  };
}

describe("readWorkerConfig agrees with wrangler's unstable_readConfig", () => {
  const configs = fixtureConfigs();

  it("covers the fixture configs", () => {
    expect(configs.length).toBeGreaterThanOrEqual(5);
  });

  for (const config of configs) {
    const environments = readWorkerConfig(config).environments;
    for (const env of [undefined, ...environments]) {
      it(`${path.relative(PACKAGE_ROOT, config)}${env ? ` --env ${env}` : ""}`, () => {
        expect(cfprobeView(config, env)).toEqual(wranglerView(config, env));
      });
    }
  }
});
