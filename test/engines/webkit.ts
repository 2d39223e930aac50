// Vitest browser provider for WebKitGTK (JavaScriptCore, Safari's engine): Vitest's webdriverio
// provider pointed at Debian's WebKitWebDriver, which drives MiniBrowser over classic WebDriver.
// MiniBrowser has no headless mode, so it gets a private Xvfb display. Both processes are
// started with the browser and stopped when the provider closes (or this process exits), on a
// free port and display chosen at start, so parallel runs do not collide.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { defineBrowserProvider } from "@vitest/browser";
import { WebdriverBrowserProvider, type WebdriverProviderOptions } from "@vitest/browser-webdriverio";
import type { BrowserProvider, BrowserProviderOption, TestProject } from "vitest/node";

export const miniBrowserPath = process.env.MINIBROWSER_PATH ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });

/** Starts Xvfb on a display it picks itself (-displayfd) and resolves that display number. */
function startXvfb(children: ChildProcess[]): Promise<number> {
  const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  children.push(xvfb);
  return new Promise((resolve, reject) => {
    let err = "";
    xvfb.stderr!.on("data", (d: Buffer) => (err += d));
    xvfb.stdio[3]!.on("data", (d: Buffer) => resolve(Number(String(d).trim())));
    xvfb.on("error", reject);
    xvfb.on("exit", (code) => reject(new Error(`Xvfb exited with ${code} before giving a display: ${err}`)));
  });
}

async function waitForDriver(port: number, driver: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`WebKitWebDriver did not answer on port ${port} within 10 s`);
}

class WebKitProvider extends WebdriverBrowserProvider {
  private readonly children: ChildProcess[] = [];
  private readonly stopChildren = (): void => {
    for (const child of this.children.splice(0)) if (child.exitCode === null) child.kill("SIGTERM");
  };

  constructor(project: TestProject, private readonly base: WebdriverProviderOptions) {
    super(project, base);
  }

  override async openBrowser(): Promise<WebdriverIO.Browser> {
    if (this.browser) return this.browser;
    process.once("exit", this.stopChildren);
    const display = await startXvfb(this.children);
    const port = await freePort();
    // Without JSC_useSharedArrayBuffer, SharedArrayBuffer is undefined in WebKitGTK even on a
    // cross-origin isolated page, and the thread tests would only test the single-threaded path.
    const driver = spawn("WebKitWebDriver", [`--port=${port}`], {
      env: { ...process.env, DISPLAY: `:${display}`, JSC_useSharedArrayBuffer: "1" },
      stdio: "ignore",
    });
    this.children.push(driver);
    await waitForDriver(port, driver);
    // The parent reads these options when it connects.
    Object.assign(this.base, { hostname: "127.0.0.1", port });
    return super.openBrowser();
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.stopChildren();
      process.off("exit", this.stopChildren);
    }
  }
}

export function webkit(): BrowserProviderOption {
  const options: WebdriverProviderOptions = {
    capabilities: {
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": { binary: miniBrowserPath, args: ["--automation"] },
      "wdio:enforceWebDriverClassic": true,
    } as WebdriverIO.Capabilities,
  };
  return defineBrowserProvider({
    name: "webdriverio",
    supportedBrowser: ["MiniBrowser"],
    options,
    // The cast: @vitest/browser-webdriverio's CDPSession augmentation does not match vitest's own
    // type (a mismatch between the two packages' declarations; the suite uses no CDP).
    providerFactory: (project) => new WebKitProvider(project, options) as unknown as BrowserProvider,
  });
}
