// Vitest browser provider for Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi.
// Vitest's own providers cannot drive it here: the playwright provider sends Playwright-only
// protocol commands that stock Firefox rejects, and the webdriverio provider downloads
// geckodriver (no network; Debian does not package it). The suite needs nothing but page loads.
import { defineBrowserProvider } from "@vitest/browser";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { BrowserProvider, BrowserProviderOption } from "vitest/node";

export const firefoxPath = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

class FirefoxProvider implements BrowserProvider {
  readonly name = "puppeteer-firefox";
  readonly supportsParallelism = false;
  private browser: Promise<Browser> | undefined;
  private readonly pages = new Map<string, Page>();

  getCommandsContext(sessionId: string): Record<string, unknown> {
    return { page: this.pages.get(sessionId) };
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    this.browser ??= puppeteer.launch({ browser: "firefox", executablePath: firefoxPath, headless: true });
    const browser = await this.browser;
    const page = this.pages.get(sessionId) ?? (await browser.newPage());
    this.pages.set(sessionId, page);
    await page.goto(url);
  }

  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    this.pages.clear();
    await (await browser)?.close();
  }
}

export function firefox(): BrowserProviderOption {
  return defineBrowserProvider({ name: "puppeteer-firefox", options: {}, providerFactory: () => new FirefoxProvider() });
}
