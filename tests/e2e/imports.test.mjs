// Company CSV import in a real Chromium against the real server. An Admin uploads a file of
// 12,000 companies with three bad rows and watches the progress bar until the result shows;
// downloads the error report and the failed rows (browser download events) and checks what
// is in them; fixes two of the rows in the correction grid with the keyboard alone (type,
// Tab between cells, Enter re-checks the row) and sees them imported into the same batch,
// the counts moving on the page. Another page uploads an 11 MB file and is told the limit.
// The upload form, the progress and result page and the grid are checked with axe and
// photographed; no page logs a console error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startServer } from './lib/server.mjs';
import { axeCheck, formatViolations, launchBrowser, newPage, screenshot, settle } from './lib/browser.mjs';
import { parseCSV } from './lib/app.mjs';

// The shared e2e database keeps earlier runs' rows: names carry this run's tag.
const RUN = `${Date.now().toString(36)}${process.pid}`;
const SEGMENT = `Imports E2E ${RUN}`;
const ROWS = 12_000;
const n = (v) => v.toLocaleString('en-GB'); // 11,997
// Spreadsheet rows (header = 1) that fail, and why.
const BAD = { 3: 'no name', 5: 'bad year', 8: 'unknown segment' };

function assertNoViolations(violations, where) {
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where}:\n${formatViolations(violations)}`);
}

function assertClean(problems, where, { allowStatus = [] } = {}) {
  const expected = allowStatus.map((s) => `status of ${s}`);
  const consoleErrors = problems.consoleErrors.filter((m) => !expected.some((e) => m.includes(e)));
  assert.deepEqual(consoleErrors, [], `console errors on ${where}`);
  assert.deepEqual(problems.pageErrors, [], `page errors on ${where}`);
  assert.deepEqual(problems.failedRequests, [], `failed requests on ${where}`);
  const bad = problems.badResponses.filter((r) => !allowStatus.some((s) => r.startsWith(`${s} `)));
  assert.deepEqual(bad, [], `error responses on ${where}`);
}

async function signIn(page, baseURL) {
  await page.goto(`${baseURL}/login`);
  await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, 'sign-in failed');
}

// A form post through the browser's session (the CSRF token is the one htmx sends), multipart
// like every form of the app (Kore drops urlencoded values with line breaks).
async function post(page, baseURL, path, form) {
  const token = await page.evaluate(() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']);
  const res = await page.request.post(`${baseURL}${path}`, { multipart: { csrf_token: token, ...form }, maxRedirects: 0 });
  assert.equal(res.status(), 303, `POST ${path}: ${res.status()} ${await res.text()}`);
  return res.headers().location;
}

async function batchJSON(page, baseURL, batch) {
  const res = await page.request.get(`${baseURL}/imports/${batch}`, { headers: { Accept: 'application/json' } });
  assert.equal(res.status(), 200);
  return res.json();
}

function quote(v) {
  return `"${String(v).replace(/"/g, '""')}"`;
}

// The file: ROWS companies, three of them bad, CRLF line ends.
function companiesFile() {
  const lines = ['Company Name,Segment Name,Company Website,City,Founded Year'];
  for (let row = 2; row <= ROWS + 1; row++) {
    let name = `E2E Company ${RUN} ${row}`;
    let segment = SEGMENT;
    let year = '1990';
    if (BAD[row] === 'no name') name = '';
    if (BAD[row] === 'bad year') year = '19x9';
    if (BAD[row] === 'unknown segment') segment = `No Such Segment ${RUN}`;
    lines.push([name, segment, `e2e-${row}.example.com`, 'Leeds', year].map(quote).join(','));
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

async function download(page, linkName) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: linkName }).click()]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), rows: parseCSV(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) };
}

describe('company CSV import', () => {
  let server;
  let browser;
  let admin;
  let batch;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    admin = await newPage(browser, { acceptDownloads: true });
    await signIn(admin.page, server.baseURL);
    await admin.page.goto(`${server.baseURL}/segments/new`);
    await post(admin.page, server.baseURL, '/segments', { name: SEGMENT });
    await admin.page.goto(`${server.baseURL}/imports`); // shows (and so clears) the "created" flash
  });

  after(async () => {
    if (admin) await admin.context.close();
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('the upload form: accessible, with the template and the rules', async () => {
    const { page, problems } = admin;
    await page.waitForLoadState('networkidle');
    problems.reset();
    const res = await page.goto(`${server.baseURL}/imports/companies/new`);
    assert.equal(res.status(), 200);
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Import companies' }).count(), 1);
    assert.equal(await page.locator('a[href="/imports/companies/template.csv"]').count(), 1);
    assert.match(await page.locator('main').textContent(), /10 MB/);
    assertNoViolations(await axeCheck(page), '/imports/companies/new');
    await screenshot(page, 'imports-new');
    assertClean(problems, '/imports/companies/new');
  });

  test('upload good and bad rows, watch the progress, download both reports', async () => {
    const { page, problems } = admin;
    problems.reset();
    await page.goto(`${server.baseURL}/imports/companies/new`, { waitUntil: 'networkidle' });
    await page.getByLabel('CSV file').setInputFiles({ name: 'e2e-companies.csv', mimeType: 'text/csv', buffer: companiesFile() });
    await Promise.all([page.waitForURL(/\/imports\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Upload and import' }).click()]);
    batch = new URL(page.url()).pathname.split('/')[2];

    // While it runs the page shows a progress bar that htmx refreshes; it is replaced by
    // the result when the batch completes.
    const progress = page.locator('progress');
    await progress.first().waitFor({ timeout: 10_000 });
    // Once htmx has refreshed the page (what a user watching it sees), photograph and check it.
    await page.evaluate(
      () =>
        new Promise((resolve) => {
          document.body.addEventListener('htmx:afterSettle', () => resolve(true), { once: true });
          setTimeout(() => resolve(false), 5000);
        }),
    );
    let processingViolations = [];
    if ((await progress.count()) > 0) {
      await screenshot(page, 'imports-progress');
      processingViolations = await axeCheck(page);
    }
    let seen = 0;
    for (let i = 0; i < 600 && (await progress.count()) > 0; i++) {
      // The bar may be replaced by the result between the count and this read.
      const value = await progress.first().getAttribute('value', { timeout: 500 }).catch(() => null);
      if (value !== null) seen = Math.max(seen, Number(value));
      await page.waitForTimeout(200);
    }
    await page.getByText('Rows in the file').waitFor({ timeout: 120_000 });
    assert.equal(await progress.count(), 0, 'the progress bar is gone once the batch is done');
    assert.ok(seen >= 0 && seen <= 100);

    const result = page.locator('.imports-result');
    assert.match(await result.textContent(), new RegExp(`Rows in the file\\s*${n(ROWS)}`));
    assert.match(await result.textContent(), new RegExp(`Imported\\s*${n(ROWS - 3)}`));
    assert.match(await result.textContent(), /Still failing\s*3/);
    assert.match(await page.locator('.page-head').textContent(), new RegExp(batch));
    const errors = page.getByRole('region', { name: 'Rows that failed' });
    for (const row of Object.keys(BAD)) assert.match(await errors.textContent(), new RegExp(`\\b${row}\\b`));
    assertNoViolations(await axeCheck(page), 'the batch result');
    await screenshot(page, 'imports-result');

    const json = await batchJSON(page, server.baseURL, batch);
    assert.equal(json.status, 'completed');
    assert.equal(json.total_rows, ROWS);
    assert.equal(json.valid_rows, ROWS - 3);
    assert.equal(json.invalid_rows, 3);

    // The error report: one line per error, spreadsheet row numbers.
    const report = await download(page, 'Error report (CSV)');
    assert.match(report.name, /errors\.csv$/);
    const lines = report.rows.slice(1).filter((r) => r.length > 1);
    assert.deepEqual(lines.map((r) => Number(r[0])), [3, 5, 8]);
    assert.equal(lines[0][1], 'Company Name');
    assert.equal(lines[1][1], 'Founded Year');
    assert.equal(lines[1][2], '19x9');
    assert.equal(lines[2][1], 'Segment Name');
    assert.equal(lines[2][2], `No Such Segment ${RUN}`);
    for (const l of lines) assert.ok(l[3].length > 5, `a message for row ${l[0]}`);

    // The failed rows, in full, in the file's columns.
    const failed = await download(page, 'Failed rows (CSV)');
    assert.match(failed.name, /failed-rows\.csv$/);
    assert.deepEqual(failed.rows[0], ['Company Name', 'Segment Name', 'Company Website', 'City', 'Founded Year']);
    const data = failed.rows.slice(1).filter((r) => r.length > 1);
    assert.equal(data.length, 3);
    assert.deepEqual(data[0], ['', SEGMENT, 'e2e-3.example.com', 'Leeds', '1990']);
    assert.deepEqual(data[1], [`E2E Company ${RUN} 5`, SEGMENT, 'e2e-5.example.com', 'Leeds', '19x9']);

    // Checked last, so that it cannot hide the flow above.
    assertNoViolations(processingViolations, 'the batch page while processing');
    assertClean(problems, 'the batch page');
  });

  test('fix two rows in the grid with the keyboard: imported into the same batch', async () => {
    const { page, problems } = admin;
    problems.reset();
    await Promise.all([page.waitForURL(/\/fix$/), page.getByRole('link', { name: 'Fix failed rows' }).click()]);
    const grid = page.locator('table.fix-grid');
    assert.equal(await grid.locator('tbody tr').count(), 3);
    const countsBefore = await page.locator('#fix-counts').textContent();
    assertNoViolations(await axeCheck(page), 'the fix grid');
    await screenshot(page, 'imports-fix');

    // Row 3: type the missing name, Tab along the row, Enter re-checks it.
    const name3 = page.getByLabel('Row 3, Company Name');
    await name3.focus();
    await page.keyboard.type(`Fixed Three ${RUN}`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.labels[0].textContent), 'Row 3, Segment Name');
    await page.keyboard.press('Enter');
    await page.locator('#fix-row-3 .fix-done').waitFor();
    assert.match(await page.locator('#fix-row-3').textContent(), /passed and was imported/);

    // Focus moved to the next failing row; Tab to its year, fix it, Enter.
    await page.waitForFunction(() => document.activeElement && document.activeElement.id.startsWith('c-5-'));
    for (let i = 0; i < 8; i++) {
      const label = await page.evaluate(() => document.activeElement.labels && document.activeElement.labels[0] && document.activeElement.labels[0].textContent);
      if (label === 'Row 5, Founded Year') break;
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement.labels[0].textContent), 'Row 5, Founded Year');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('1999');
    await page.keyboard.press('Enter');
    await page.locator('#fix-row-5 .fix-done').waitFor();

    // The counts above the grid follow; row 8 is still there with its error.
    await page.waitForFunction(
      (want) => new RegExp(want).test(document.getElementById('fix-counts').textContent),
      `1\\s+row still failing · ${n(ROWS - 1)} imported, 2 of them after correction`,
    );
    assert.match(await page.locator('#fix-row-8').textContent(), /There is no segment named/);
    // The counts arrive by an htmx swap that fades; axe measures colours, so it waits
    // until htmx has settled and nothing is still animating.
    await page.waitForFunction(() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added'));
    await settle(page);
    const afterFixViolations = await axeCheck(page);
    await screenshot(page, 'imports-fix-done');

    const json = await batchJSON(page, server.baseURL, batch);
    assert.equal(json.valid_rows, ROWS - 1);
    assert.equal(json.invalid_rows, 1);
    assert.equal(json.corrected_rows, 2);
    // Both are companies of the same batch.
    const list = await page.request.get(`${server.baseURL}/companies?batch=${batch}&q=${encodeURIComponent(`Fixed Three ${RUN}`)}`, { headers: { Accept: 'application/json' } });
    assert.equal((await list.json()).rows.length, 1);
    // (a name search matches rows 5, 50, 500…, listed in file order with the corrected row 5
    // last: the record the grid links to is the one to check)
    const fiveHref = await page.locator('#fix-row-5 .fix-done a').getAttribute('href');
    const five = await page.request.get(`${server.baseURL}${fiveHref}`, { headers: { Accept: 'application/json' } });
    assert.equal((await five.json()).name, `E2E Company ${RUN} 5`);
    assert.equal((await five.json()).batch_id, batch);

    // The batch page says so too.
    await page.goto(`${server.baseURL}/imports/${batch}`);
    assert.match(await page.locator('.imports-result').textContent(), /Corrected\s*2/);

    // Checked last, so that they cannot hide the flow above.
    assert.match(countsBefore, new RegExp(`3\\s+rows still failing · ${n(ROWS - 3)} imported`));
    assertNoViolations(afterFixViolations, 'the fix grid after corrections');
    assertClean(problems, 'the fix grid');
  });

  test('an 11 MB file is refused with the size limit named', async () => {
    const other = await newPage(browser);
    try {
      await signIn(other.page, server.baseURL);
      const { page, problems } = other;
      await page.waitForLoadState('networkidle'); // nothing of the home page still loading
      problems.reset();
      // networkidle: the favicon's request is done before the form takes the page away
      await page.goto(`${server.baseURL}/imports/companies/new`, { waitUntil: 'networkidle' });
      const big = Buffer.alloc(11 * 1024 * 1024, 'a');
      big.write('Company Name,Segment Name\r\n', 0);
      await page.getByLabel('CSV file').setInputFiles({ name: 'too-big.csv', mimeType: 'text/csv', buffer: big });
      const [res] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Upload and import' }).click()]);
      assert.equal(res.status(), 413);
      assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /too large/i);
      assert.match(await page.locator('main').textContent(), /10 MB/);
      assertNoViolations(await axeCheck(page), 'the 413 page');
      await screenshot(page, 'imports-too-large');
      assertClean(problems, 'the 413 page', { allowStatus: [413] });
    } finally {
      await other.context.close();
    }
  });
});
