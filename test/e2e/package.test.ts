// The published package: what npm would install (the tarball setup.ts packed), linted by
// publint, its types checked under every resolution mode by @arethetypeswrong/cli, and held to
// the download-size budget.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { expect, inject, it } from "vitest";
import { BUDGET, measure, report } from "../../scripts/size.js";

const installed = join(inject("consumer"), "node_modules/layernorm-wasm");
const attw = fileURLToPath(new URL("../../node_modules/.bin/attw", import.meta.url));

it("publint: no errors, warnings or suggestions", async () => {
  const { messages, pkg } = await publint({ pkgDir: installed, level: "suggestion", pack: false });
  expect(messages.map((m) => formatMessage(m, pkg))).toEqual([]);
});

it("are the types wrong: import and require each resolve to their own JS and types", () => {
  // The .wasm subpath is an asset, not a module: it has no types to check.
  const run = () => execFileSync(attw, [inject("tarball"), "--exclude-entrypoints", "layernorm.wasm", "--format", "ascii", "--no-color"], { encoding: "utf8" });
  let output: string;
  try {
    output = run();
  } catch (e) {
    throw new Error(`attw found problems:\n${(e as { stdout?: string }).stdout ?? e}`);
  }
  expect(output).toMatch(/No problems found/);
});

it("the package ships only what users need", () => {
  const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  expect(pkg.sideEffects).toBe(false);
  const listed = execFileSync("tar", ["-tzf", inject("tarball")], { encoding: "utf8" }).trim().split("\n").map((f) => f.replace(/^package\//, ""));
  expect(listed.filter((f) => !/^(dist\/bundle\/[\w-]+\.c?js|dist\/.*\.d\.ts|dist\/cjs\/package\.json|dist\/layernorm\.wasm|package\.json|README\.md|LICENSE)$/.test(f))).toEqual([]);
  expect(listed.filter((f) => /registry|reference|\.map$|\.debug\./.test(f))).toEqual([]);
});

it(`download size: bundled, minified and gzipped within ${BUDGET} bytes`, async () => {
  const sizes = await measure(installed);
  console.log(report(sizes));
  expect(sizes.bundled.gzip).toBeGreaterThan(sizes.wasm.gzip); // the bundle really holds the kernels
  expect(sizes.bundled.gzip).toBeLessThanOrEqual(BUDGET);
});
