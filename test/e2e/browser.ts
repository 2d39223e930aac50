// Chromium for the scenario and demo tests, launched like the Vitest browser project, plus the
// page checks every scenario shares.
import { chromium, type Browser, type Page } from "playwright";
import { launchOptions } from "../chromium.js";

export function launch(): Promise<Browser> {
  return chromium.launch(launchOptions);
}

/**
 * Opens `url`, collecting uncaught page errors and console errors, and the arguments of every
 * console.log (from the page and its workers) as JSON values; returns the page and them.
 */
export async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[]; logged: Promise<unknown[]>[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const logged: Promise<unknown[]>[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // Chromium asks every new origin for /favicon.ico; the fixture pages have none.
    if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico")) errors.push(`console: ${m.text()}`);
    if (m.type() === "log") logged.push(Promise.all(m.args().map((a) => a.jsonValue())));
  });
  await page.goto(url);
  return { page, errors, logged };
}

/** Waits for the page to publish `window.result` and returns it. */
export async function result<T = Record<string, unknown>>(page: Page): Promise<T> {
  await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, null, { timeout: 30_000 });
  return page.evaluate(() => (window as unknown as { result: T }).result);
}
