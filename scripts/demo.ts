// `npm run demo`: builds only if dist/ is older than its sources, serves the repository on
// 127.0.0.1 and prints the demo's URL. The page imports the built dist/ through an import map
// (no bundler). COOP/COEP make the page cross-origin isolated, which SharedArrayBuffer, and so a
// threaded runtime, requires. The server is this process (no child): it stops on Ctrl-C,
// SIGTERM or SIGHUP, and when its parent (npm) goes away without passing a signal on.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type Served } from "./serve.js";

export const isolation = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
const root = fileURLToPath(new URL("..", import.meta.url));

/** Starts the demo server; resolves to the server and the page's URL. */
export async function startDemo(port = 0): Promise<Served & { page: string }> {
  let served: Served;
  try {
    served = await serve(root, { port, headers: () => isolation });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    served = await serve(root, { headers: () => isolation }); // any free port
  }
  return { ...served, page: `${served.url}demo/` };
}

// What `npm run build` reads (besides node_modules) and the files the demo needs from it.
const SOURCES = ["assembly", "src", "asconfig.json", "tsconfig.build.json", "tsconfig.cjs.json", "package.json", "scripts/inline-wasm.mjs", "scripts/bundle.mjs", "scripts/package-dist.mjs"];
const NEEDED = ["dist/index.js", "dist/bundle/index.js", "dist/layernorm.wasm"];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: "utf8" }).map((f) => join(path, f)).filter((f) => statSync(f).isFile());
}

/** Why dist/ must be rebuilt (a missing output, or a source newer than the oldest output), or undefined if it is up to date. */
export function staleBuild(base = root): string | undefined {
  const missing = NEEDED.find((f) => !existsSync(join(base, f)));
  if (missing) return `${missing} is missing`;
  const outputs = files(join(base, "dist")).map((f) => statSync(f).mtimeMs);
  const oldest = Math.min(...outputs);
  const newer = SOURCES.flatMap((s) => files(join(base, s))).find((f) => statSync(f).mtimeMs > oldest);
  return newer ? `${newer.slice(base.length).replace(/^\//, "")} is newer than dist/` : undefined;
}

// npm runs a script through `sh -c`, and a killed npm does not take the shell with it: so the
// watch covers the grandparent too (Linux: /proc; elsewhere only the parent is known).
function ancestors(): number[] {
  try {
    const grandparent = Number(stat(process.ppid).split(" ")[1]);
    return grandparent > 1 ? [process.ppid, grandparent] : [process.ppid];
  } catch {
    return [process.ppid];
  }
}
/** "S ppid ..." from /proc/PID/stat, after the command name. */
const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!;
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !stat(pid).startsWith("Z"); // killed but not yet reaped
  } catch {
    return true;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let demo: Served | undefined, build: ChildProcess | undefined;
  const stop = async () => {
    if (build?.pid) process.kill(-build.pid, "SIGTERM"); // the build's whole process group (npm, sh, asc/tsc)
    await demo?.close();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, stop);
  const parent = process.ppid, watched = ancestors();
  setInterval(() => { if (process.ppid !== parent || !watched.every(alive)) void stop(); }, 250);
  const stale = staleBuild();
  if (stale) {
    console.log(`building: ${stale}`);
    build = spawn("npm", ["run", "build"], { cwd: root, stdio: "inherit", detached: true });
    const [code] = (await once(build, "exit")) as [number | null];
    if (code !== 0) process.exit(code ?? 1);
    build = undefined;
  } else console.log("dist/ is up to date with its sources: not rebuilding");
  const started = await startDemo(Number(process.env.PORT ?? 5178));
  demo = started;
  console.log(`layernorm-wasm demo: ${started.page}  (Ctrl+C to stop)`);
}
