import { launchBrowser, newPage, axeCheck, formatViolations } from './lib/browser.mjs';
const base = 'http://127.0.0.1:18111';
const browser = await launchBrowser();
async function as(email, pw, paths) {
  const { page } = await newPage(browser);
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.goto(`${base}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  for (const [name, p] of paths) {
    await page.goto(base + p);
    await page.screenshot({ path: `/tmp/wt11shots/${name}.png`, fullPage: true });
    const v = await axeCheck(page);
    console.log(name, p, 'axe', v.length, v.length ? formatViolations(v) : '');
  }
  return page;
}
const seg = process.argv[2], co = process.argv[3];
await as('approver@example.com', 'spanner-demo', [['home-approver', '/'], ['company-approver', `/companies/${co}`], ['segment-approver', `/segments/${seg}`]]);
await as('researcher@example.com', 'spanner-demo', [['home-researcher', '/'], ['mine-researcher', '/assignments/mine']]);
await as('sdr@example.com', 'spanner-demo', [['home-sdr', '/']]);
await as('owner@example.com', 'spanner-demo', [['home-owner', '/'], ['segment-owner', `/segments/${seg}`]]);
await as('marketing@example.com', 'spanner-demo', [['home-marketing', '/']]);
await browser.close();
