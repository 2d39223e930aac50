// `npm run demo`: serves the repository on 127.0.0.1 and prints the demo's URL. The page
// imports the built dist/ through an import map (no bundler). COOP/COEP make the page
// cross-origin isolated, which SharedArrayBuffer, and so a threaded runtime, requires.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type Served } from "./serve.js";

export const isolation = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };

/** Starts the demo server; resolves to the server and the page's URL. */
export async function startDemo(port = 0): Promise<Served & { page: string }> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  let served: Served;
  try {
    served = await serve(root, { port, headers: () => isolation });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    served = await serve(root, { headers: () => isolation }); // any free port
  }
  return { ...served, page: `${served.url}demo/` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { page } = await startDemo(Number(process.env.PORT ?? 5178));
  console.log(`layernorm-wasm demo: ${page}  (Ctrl+C to stop)`);
}
