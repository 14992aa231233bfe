// Chromium for the browser tests, through playwright-core.
//
//   const browser = await launchBrowser();
//   const { page, context, problems } = await newPage(browser);          // JS on
//   const { page } = await newPage(browser, { javaScriptEnabled: false }); // JS off
//   problems.consoleErrors / problems.pageErrors / problems.failedRequests
//   const violations = await axeCheck(page);     // [] when clean
//   await screenshot(page, 'login');             // tests/e2e/screenshots/login.png
//   await browser.close();

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './server.mjs';

export const SCREENSHOT_DIR = path.join(ROOT, 'tests/e2e/screenshots');
const AXE_PATH = path.join(ROOT, 'node_modules/axe-core/axe.min.js');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export async function launchBrowser() {
  const executablePath = process.env.SPANNER_CHROMIUM || '/usr/bin/chromium';
  // playwright-core gives every launch a fresh temporary profile and removes it on close
  // (it refuses a --user-data-dir argument), so no state leaks between runs.
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

// A page in its own context that records what went wrong while it was used.
// `expect` lets a test declare problems it provokes on purpose (e.g. a 404 document).
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    ...contextOptions,
  });
  const page = await context.newPage();
  const problems = { consoleErrors: [], pageErrors: [], failedRequests: [], badResponses: [] };

  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      problems.consoleErrors.push(`${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err && err.stack ? err.stack : err)));
  page.on('requestfailed', (req) => {
    const failure = req.failure();
    const text = failure ? failure.errorText : 'failed';
    // Chromium fetches the favicon after "load" and abandons it when the next navigation
    // starts first (a quick click or form post): no problem of the page's, so never one here.
    if (/\/assets\/favicon\.svg/.test(req.url()) && text === 'net::ERR_ABORTED') return;
    problems.failedRequests.push(`${req.method()} ${req.url()}: ${text}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.badResponses.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });

  problems.reset = () => {
    problems.consoleErrors.length = 0;
    problems.pageErrors.length = 0;
    problems.failedRequests.length = 0;
    problems.badResponses.length = 0;
  };
  return { context, page, problems };
}

let axeSource = null;

// Runs axe-core on the page (all rules axe runs by default: WCAG 2.x A/AA and best
// practices). The CSP forbids inline scripts, so the library is evaluated through the
// DevTools protocol (which CSP does not govern) rather than added as a <script>.
// Waits until every finite animation (a panel sliding in, an htmx swap fading) has ended:
// axe measures colours, and a half-faded element would fail it.
export async function settle(page) {
  // htmx's own states first: a region being fetched, swapped (faded, .htmx-swapping) or
  // settled is not what the user ends up seeing.
  await page
    .waitForFunction(() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'), null, {
      timeout: 5000,
    })
    .catch(() => null);
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
        .map((a) => a.finished.catch(() => null)),
    ),
  );
}

export async function axeCheck(page, options = {}) {
  if (!axeSource) axeSource = fs.readFileSync(AXE_PATH, 'utf8');
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(`${axeSource}\n;void 0;`);
  const result = await page.evaluate(async (opts) => {
    const r = await window.axe.run(document, opts);
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
    }));
  }, options);
  return result;
}

export function formatViolations(violations) {
  return violations
    .map(
      (v) =>
        `[${v.impact}] ${v.id}: ${v.help}\n  ${v.helpUrl}\n` +
        v.nodes.map((n) => `  - ${n.target.join(' ')}\n    ${n.html}\n    ${(n.summary || '').replace(/\n/g, '\n    ')}`).join('\n'),
    )
    .join('\n');
}

export async function screenshot(page, name, options = {}) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', ...options });
  return file;
}
