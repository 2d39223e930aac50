import { playwright } from "@vitest/browser-playwright";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import type { BrowserInstanceOption, BrowserProviderOption } from "vitest/node";
import { launchOptions } from "./test/chromium.js";
import { firefox } from "./test/engines/firefox.js";
import { webkit } from "./test/engines/webkit.js";
import ConsoleLogFile from "./test/console-log-reporter.js";

// The same suite runs in Node and in headless Chromium. Files that need Node APIs are listed
// here, and only here, as Node-only.
const suite = ["test/*.test.ts"];
const nodeOnly = [
  "test/debug-build.test.ts", // reads build/layernorm.debug.wasm with node:fs
  "test/threads-node.test.ts", // starts Node processes
  "test/results.test.ts", // reads the committed benchmark results and README with node:fs
];

// One project per browser engine, each running the whole suite: V8 (Chromium), SpiderMonkey
// (Firefox ESR), JavaScriptCore (WebKitGTK). Providers for the last two are in test/engines/.
function browserProject(name: string, provider: BrowserProviderOption, browser: string, headless = true): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name,
      include: suite,
      exclude: nodeOnly,
      browser: {
        enabled: true,
        headless,
        ui: false,
        // Any free port: the default one may be taken by another run on the machine, and Vite
        // then says so on the terminal for each port it tries.
        api: { port: 0 },
        screenshotDirectory: "test-results/screenshots",
        provider,
        // Vitest types browser names as the built-in providers' list; MiniBrowser is not on it.
        instances: [{ browser: browser as BrowserInstanceOption["browser"] }],
      },
    },
  };
}

export default defineConfig({
  // Cross-origin isolation, so the browser tests get SharedArrayBuffer and can test threads.
  server: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } },
  test: {
    testTimeout: 120_000,
    // A passing run prints its summary; failures print in full. What tests log goes to a file.
    reporters: ["minimal", new ConsoleLogFile()],
    // Test artifacts (failure screenshots, attachments) stay under test-results/, which git ignores.
    attachmentsDir: "test-results/attachments",
    projects: [
      { extends: true, test: { name: "node", include: suite } },
      browserProject("chromium", playwright({ launchOptions }), "chromium"),
      browserProject("firefox", firefox(), "firefox"),
      // MiniBrowser has no headless mode: the provider runs it on its own Xvfb display.
      browserProject("webkit", webkit(), "MiniBrowser", false),
      // Node tests that drive Chromium themselves: the packed package in every place a user puts
      // it (Node CJS/ESM, Vite app, plain page, worker, strict CSP), package checks, the demo;
      // and the built bundle's output bits in Node, Deno, Bun and the jsc shell (test/engines/).
      { extends: true, test: { name: "e2e", include: ["test/e2e/*.test.ts", "test/engines/*.test.ts"], globalSetup: "test/e2e/setup.ts" } },
    ],
  },
});
