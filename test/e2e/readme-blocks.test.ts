// The README's other code blocks, run verbatim as a user pasting them would, against the packed
// tarball that setup.ts installed: every js/ts block outside "Browsers, bundlers, workers and
// CSP" (readme.test.ts runs those recipes) is written to its own file in the consumer project and
// run with Node (a ts block with tsx, after tsc has type-checked every ts block in strict mode
// against the package's published types); it must exit 0. A block that is not meant to run says
// so with `<!-- not-run: reason -->` on the line before its fence; the reason names the source
// file the block quotes, whose lines it must still match; a block in another fence that imports the package fails the test, so no block
// is left out silently. What a block's comments say it prints is asserted in `prints` below.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, inject, it } from "vitest";

const recipes = "Browsers, bundlers, workers and CSP"; // readme.test.ts's section
const runnable: Record<string, "ts" | "js"> = { ts: "ts", typescript: "ts", js: "js", javascript: "js", mjs: "js", cjs: "js" };
const other = new Set(["", "text", "sh", "bash", "shell", "html"]); // fences never run (text, commands, pages)

interface Block { id: string; line: number; section: string; lang: string; code: string; notRun?: string }

/** Every fenced block with the heading it is under, numbered per heading: "Use #2". */
function readmeBlocks(text: string): Block[] {
  const lines = text.split("\n"), blocks: Block[] = [], perHeading = new Map<string, number>();
  let heading = "", section = "", previous = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^(#{2,6}) (.*)$/.exec(line);
    if (h) [heading, section] = [h[2]!, h[1] === "##" ? h[2]! : section];
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) {
      if (line.trim() !== "") previous = line.trim();
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`README.md line ${i + 1}: the fence is never closed`);
    const n = (perHeading.get(heading) ?? 0) + 1;
    perHeading.set(heading, n);
    const marker = /^<!-- not-run:(.*)-->$/.exec(previous);
    blocks.push({ id: `${heading} #${n}`, line: i + 1, section, lang: fence[1]!, code: lines.slice(i + 1, end).join("\n") + "\n", notRun: marker?.[1]!.trim() });
    [i, previous] = [end, ""];
  }
  return blocks;
}

/** What blocks print, where their comments say so (checked against stdout). */
const prints: Record<string, (stdout: string) => void> = {
  // console.log(ty.data): "a Float32Array view" of the 4 x 768 output.
  "Use #1": (out) => expect(out).toMatch(/^Float32Array\(3072\) \[/),
  // console.log(getThreads()): the core count ("auto") where shared memory is available, else 1.
  "Threads #1": (out) => expect(out.trim()).toBe(String(typeof SharedArrayBuffer === "function" ? availableParallelism() : 1)),
};

const consumer = inject("consumer");
const dir = join(consumer, "readme-blocks");
const bin = (path: string) => fileURLToPath(new URL(`../../node_modules/${path}`, import.meta.url));
const all = readmeBlocks(readFileSync(new URL("../../README.md", import.meta.url), "utf8"));
const blocks = all.filter((b) => b.section !== recipes && runnable[b.lang] !== undefined);
const toRun = blocks.filter((b) => b.notRun === undefined);
const file = (b: Block) => `line-${b.line}.${runnable[b.lang] === "ts" ? "ts" : /\brequire\(/.test(b.code) && !/^import /m.test(b.code) ? "cjs" : "mjs"}`;

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  // The consumer is "type": "module", so a .ts block is an ES module (top-level await allowed).
  const compilerOptions = { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["esnext", "dom"], types: [] };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }));
  for (const b of toRun) writeFileSync(join(dir, file(b)), b.code);
});

it("every js/ts block is run here or marked not-run with a reason; no other fence imports the package", () => {
  expect(toRun.length).toBeGreaterThan(0);
  expect(blocks.filter((b) => b.notRun === "").map((b) => b.id), "a not-run marker needs a reason").toEqual([]);
  const unknown = all.filter((b) => runnable[b.lang] === undefined && !other.has(b.lang));
  expect(unknown.map((b) => `line ${b.line}: \`\`\`${b.lang}`), "a fence language this test does not know").toEqual([]);
  const hidden = all.filter((b) => b.section !== recipes && runnable[b.lang] === undefined && /(from|require\()\s*["']layernorm-wasm/.test(b.code));
  expect(hidden.map((b) => `line ${b.line} (${b.id})`), "code in a fence that is not js/ts").toEqual([]);
  expect(Object.keys(prints).filter((id) => !toRun.some((b) => b.id === id)), "prints for a block that is gone").toEqual([]);
});

it("the ts blocks type-check (strict) against the published types", () => {
  try {
    execFileSync(process.execPath, [bin("typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
  } catch (e) {
    throw new Error(`tsc:\n${(e as { stdout?: string }).stdout ?? e}`);
  }
});

describe("each block runs verbatim", () => {
  for (const b of blocks) {
    if (b.notRun !== undefined) {
      // A block that cannot run is an excerpt of a source file it names: every code line must still be in it.
      it(`${b.id} (line ${b.line}): not run (${b.notRun.trim()}), its lines still in the file it quotes`, () => {
        const src = /\bsrc\/[\w/.-]+\.ts\b/.exec(b.notRun!)?.[0];
        expect(src, "a not-run block names the source file it quotes").toBeDefined();
        const text = readFileSync(new URL(`../../${src}`, import.meta.url), "utf8");
        const stale = b.code.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("//") && !text.includes(l));
        expect(stale, `lines of the excerpt no longer in ${src}`).toEqual([]);
      });
      continue;
    }
    it(`${b.id} (line ${b.line}, ${file(b)})`, () => {
      const args = runnable[b.lang] === "ts" ? [bin("tsx/dist/cli.mjs"), file(b)] : [file(b)];
      let stdout: string;
      try {
        stdout = execFileSync(process.execPath, args, { cwd: dir, encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        const { status, signal, stderr } = e as { status?: number; signal?: string; stderr?: string };
        throw new Error(`README block ${b.id} (line ${b.line}) failed (exit ${status ?? signal}):\n${stderr ?? e}`);
      }
      prints[b.id]?.(stdout);
    });
  }
});
