// A small static file server for the demo and the browser scenario tests. It listens on
// 127.0.0.1 only, sends the MIME types browsers insist on (WebAssembly.compileStreaming rejects
// a .wasm that is not application/wasm; module scripts need a JavaScript type), and lets the
// caller add headers per path: COOP/COEP for cross-origin isolation, a Content-Security-Policy.
import { createServer, type ServerResponse } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface ServeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Extra response headers for a path. */
  headers?: (pathname: string) => Record<string, string>;
}

export interface Served {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

/** Serves the files under `root` until close(). */
export async function serve(root: string, { port = 0, headers = () => ({}) }: ServeOptions = {}): Promise<Served> {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    let file = resolve(join(base, pathname));
    if (file !== base && !file.startsWith(base + sep)) return send(res, 403, "forbidden");
    try {
      if ((await stat(file)).isDirectory()) {
        if (!pathname.endsWith("/")) return send(res, 301, "", { location: pathname + "/" });
        file = join(file, "index.html");
      }
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": types[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
        ...headers(pathname),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      send(res, 404, "not found");
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const { port: actual } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

function send(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...extra });
  res.end(text);
}
