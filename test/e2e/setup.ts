// Global setup of the scenario tests: pack the built package exactly as npm would publish it,
// install the tarball into a throwaway consumer project (offline: the package has no
// dependencies) and copy the fixture pages beside it. Tests import and serve from there, so
// they see only what a user who ran `npm install layernorm-wasm` would see.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The consumer project: node_modules/layernorm-wasm + the fixture files. */
    consumer: string;
    /** The packed .tgz. */
    tarball: string;
  }
}

const repo = fileURLToPath(new URL("../..", import.meta.url));

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "layernorm-wasm-consumer-"));
  const npm = (args: string[], cwd: string) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], repo)) as { filename: string }[];
  const tarball = join(dir, packed[0]!.filename);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  npm(["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", tarball], dir);
  cpSync(fileURLToPath(new URL("fixtures", import.meta.url)), dir, { recursive: true });
  project.provide("consumer", dir);
  project.provide("tarball", tarball);
  return () => rmSync(dir, { recursive: true, force: true });
}
