// Chromium for UI tests: Debian's /usr/bin/chromium when installed (CI), else @sparticuz/chromium
// from npm, launched by playwright-core with a fresh profile and no background networking.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function executablePath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  // CA_TEST_NPM_CHROMIUM=1 takes the fresh-machine path even where Debian's Chromium exists.
  if (process.env.CA_TEST_NPM_CHROMIUM !== "1" && existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  const { default: sparticuz } = await import("@sparticuz/chromium");
  return sparticuz.executablePath();
}

export interface TestBrowser {
  context: BrowserContext;
  /** A second, independent browser profile (another user's browser). */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "ca-chromium-"));
  const path = await executablePath();
  // playwright-core refuses --user-data-dir on launch(); a plain launch already gets a fresh
  // temporary profile, so userDataDir only holds Chromium's crash dumps and caches.
  const browser: Browser = await chromium.launch({ executablePath: path, args: FLAGS, headless: true, env: { ...process.env, HOME: userDataDir } });
  const context = await browser.newContext();
  return {
    context,
    newContext: () => browser.newContext(),
    close: async () => {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
