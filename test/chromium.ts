// How every test starts Chromium: Debian's package (Playwright cannot download its own browsers
// here), headless, and quiet on the network (this machine has none; without these flags Chromium
// keeps trying to reach Google's services at start-up). --no-sandbox: CI runs as root.
// CHROMIUM_PATH overrides the binary (e.g. on a machine with Chromium elsewhere).
export const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};
