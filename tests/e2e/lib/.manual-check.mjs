// throw-away manual check (not committed): sign in as demo users, screenshot pages
import { launchBrowser } from './browser.mjs';
const base = process.env.BASE || 'http://127.0.0.1:8080';
const who = [
  ['researcher@example.com', '/', 'researcher-home'],
  ['marketing@example.com', '/', 'marketing-home'],
  ['owner@example.com', '/', 'owner-home'],
  ['sdr@example.com', '/', 'sdr-home'],
  ['approver@example.com', '/segments', 'segments'],
];
const browser = await launchBrowser();
for (const [email, path, name] of who) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(base + '/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'spanner-demo');
  await page.click('button[type=submit]');
  await page.waitForLoadState('networkidle');
  await page.goto(base + path);
  await page.screenshot({ path: `/tmp/shots/${name}.png`, fullPage: true });
  console.log(name, (await page.textContent('main')).replace(/\s+/g, ' ').slice(0, 600));
  await ctx.close();
}
await browser.close();
