// Issue 13: what a user walking through companies, the queue, imports and the admin pages
// tripped over, each checked the way that user would notice it, in a real Chromium.
//
//  1 the export, the count and the next-page link follow a live filter (JS on and off);
//  2 the queue's panel follows the focus after a decision, and a key never acts on a row
//    the approver does not see;
//  3 deactivating a user asks first (dialog; a page with JS off), never yourself;
//  4 the company export is a round trip: template columns first, BOM, phone numbers as
//    stored, and the file imports back to the same values;
//  5 a blank rejection reason keeps the form, with the message beside the field;
//  6 the whole row opens the quick view (click, or Enter on the row);
//  7 approving the last company of a filtered queue from the panel says so;
// 11 a field saved in the panel updates the list row behind it;
// 12 the keys help is a dialog that Esc closes, focus back on the row;
// 16 the lists say how many rows they hold, and JS off shows no key hints.
// Screenshots at 1366×768 and 1920×1080 (tests/e2e/screenshots/walk-*.png), axe on each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchBrowser, newPage, screenshot } from './lib/browser.mjs';
import { assertAxeClean, noScriptView, parseCSV, post, signIn, sql, stopChecked } from './lib/app.mjs';

const RUN = `${Date.now().toString(36)}${process.pid}`;
const VIEWPORTS = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

async function shots(page, name) {
  for (const vp of VIEWPORTS) {
    await page.setViewportSize(vp);
    await screenshot(page, `walk-${name}-${vp.width}`, { fullPage: false });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function newSegment(page, baseURL, name) {
  await page.goto(`${baseURL}/segments`);
  const loc = await post(page, baseURL, '/segments', { name });
  return loc.split('/').pop();
}

async function newCompany(page, baseURL, segmentId, fields) {
  const loc = await post(page, baseURL, '/companies', { segment_id: segmentId, ...fields });
  return loc.split('/').pop();
}

async function companyJSON(page, baseURL, id) {
  const res = await page.request.get(`${baseURL}/companies/${id}`, { headers: { Accept: 'application/json' } });
  assert.equal(res.status(), 200);
  return res.json();
}

async function csvOf(page, href) {
  const res = await page.request.get(href);
  assert.equal(res.status(), 200);
  const bytes = Buffer.from(await res.body());
  return { bytes, rows: parseCSV(bytes.toString('utf8').replace(/^\uFEFF/, '')) };
}

// htmx has answered and swapped what the last action asked for.
async function htmxIdle(page) {
  await page.waitForFunction(() => !document.querySelector('.htmx-request'));
  await page.waitForTimeout(50);
  await page.waitForFunction(() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'));
}

describe('issue 13: the UX walk', { timeout: 900_000 }, () => {
  let server;
  let browser;
  let js;
  let nojs;
  let noScript;
  let seg;
  let segName;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    js = await newPage(browser, { acceptDownloads: true });
    nojs = await newPage(browser, { javaScriptEnabled: false });
    await signIn(js.page, server.baseURL);
    await signIn(nojs.page, server.baseURL);
    noScript = await noScriptView(browser, server.baseURL, newPage);
    segName = `Walk ${RUN}`;
    seg = await newSegment(js.page, server.baseURL, segName);
    // 55 companies: a second page exists, and a search narrows it to a handful.
    for (let i = 1; i <= 55; i++) {
      const name = i <= 3 ? `Zebra Works ${RUN} ${i}` : `Walk Company ${RUN} ${i}`;
      await newCompany(js.page, server.baseURL, seg, { name, industry: 'Robotics', address_city: 'Leeds' });
    }
    await js.page.goto(`${server.baseURL}/companies`); // takes the last "created" flash
  });

  after(async () => {
    if (noScript) await noScript.context.close();
    if (nojs) await nojs.context.close();
    if (js) await js.context.close();
    if (browser) await browser.close();
    if (server) await stopChecked(server);
  });

  test('1, 16: a live search updates the export, the count and the next page (JS on)', async () => {
    const { page } = js;
    await page.goto(`${server.baseURL}/companies?segment=${seg}`);
    await assert.doesNotReject(page.locator('#list-count').waitFor());
    assert.match(await page.locator('#list-count').textContent(), /^55 companies match$/);
    const next = page.getByRole('link', { name: 'Next page' });
    assert.match(await next.getAttribute('href'), new RegExp(`segment=${seg}`));

    await page.getByLabel('Search', { exact: true }).fill('Zebra');
    await page.waitForURL(/q=Zebra/);
    await htmxIdle(page);
    assert.equal(await page.locator('#company-rows tr[data-id]').count(), 3);
    assert.match(await page.locator('#list-count').textContent(), /^3 companies match$/);
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.match(href, /q=Zebra/);
    assert.match(href, new RegExp(`segment=${seg}`));
    assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
    const { rows } = await csvOf(page, `${server.baseURL}${href}`);
    assert.equal(rows.length - 1, 3, 'the export holds exactly the 3 rows on screen');

    // and back: clearing the search brings the full count and the export of all 55
    await page.getByLabel('Search', { exact: true }).fill('');
    await page.waitForURL((u) => !/[?&]q=[^&]/.test(u.search));
    await htmxIdle(page);
    assert.match(await page.locator('#list-count').textContent(), /^55 companies match$/);
    assert.doesNotMatch(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href'), /q=/);
    await assertAxeClean(page, '/companies filtered');
    await shots(page, 'companies');
  });

  test('1: the same with JavaScript off', async () => {
    const { page } = nojs;
    await page.goto(`${server.baseURL}/companies?segment=${seg}`);
    await page.getByLabel('Search', { exact: true }).fill('Zebra');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Apply' }).click()]);
    assert.match(await page.locator('#list-count').textContent(), /^3 companies match$/);
    assert.match(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href'), /q=Zebra/);
    await noScript.check(page.url(), '/companies filtered');
  });

  test('4: the export is a round trip through the import', async () => {
    const { page } = js;
    const rtSeg = await newSegment(page, server.baseURL, `Round trip ${RUN}`);
    const values = {
      name: `Ünïcode Trading ${RUN}`,
      website: 'https://roundtrip.example.com',
      phone: '+1 555 0100',
      description: 'Line one\nLine two',
      linkedin_url: 'https://www.linkedin.com/company/roundtrip',
      industry: 'Logistics',
      sub_industry: 'Freight',
      address_street: '1 Quay Street',
      address_city: 'Cork',
      address_state: 'Munster',
      address_country: 'Ireland',
      address_zip: 'T12 AB34',
      founded_year: '1999',
      revenue_range: '$10M-$50M',
      employee_size_range: '51-200',
    };
    const id = await newCompany(page, server.baseURL, rtSeg, values);
    await page.goto(`${server.baseURL}/companies?segment=${rtSeg}`);
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    const { bytes, rows } = await csvOf(page, `${server.baseURL}${href}`);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the file starts with a UTF-8 BOM');

    const template = await csvOf(page, `${server.baseURL}/imports/companies/template.csv`);
    const templateHeader = template.rows[0].map((h) => h.replace(/^\uFEFF/, ''));
    const header = rows[0];
    assert.deepEqual(header.slice(0, templateHeader.length), templateHeader, 'the import template columns come first');
    for (const h of ['Status', 'Duplicate', 'Batch', 'Created']) assert.ok(header.includes(h), `export has ${h}`);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[1][i]]));
    assert.equal(row['Company Phone'], '+1 555 0100', 'a phone number is exported as stored');
    assert.equal(row['Company Description'], 'Line one\nLine two');
    assert.equal(row['Company Sub-Industry'], 'Freight');
    assert.equal(row['ZIP/Postal Code'], 'T12 AB34');
    assert.equal(row['Employee Size Range'], '51-200');
    assert.equal(row.Status, 'pending');

    // import the exported file as it is: the new company has every value of the old one
    await page.goto(`${server.baseURL}/imports/companies/new`);
    await page.getByLabel('CSV file').setInputFiles({ name: 'export.csv', mimeType: 'text/csv', buffer: bytes });
    await Promise.all([page.waitForURL(/\/imports\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Upload and import' }).click()]);
    await page.getByText('Rows in the file').waitFor({ timeout: 60_000 });
    const batch = new URL(page.url()).pathname.split('/')[2];
    const imported = sql(`SELECT id FROM companies WHERE batch_id = :'batch'`, { batch });
    assert.match(imported, /^[0-9a-f-]{36}$/, 'exactly one company imported');
    const [a, b] = [await companyJSON(page, server.baseURL, id), await companyJSON(page, server.baseURL, imported)];
    for (const f of Object.keys(values)) assert.equal(b[f], a[f], `${f} survives the round trip`);
    assert.equal(b.segment_id, a.segment_id);
  });

  test('6, 11: the whole row opens the quick view; a panel edit updates the row', async () => {
    const { page } = js;
    await page.goto(`${server.baseURL}/companies?segment=${seg}&q=Zebra`);
    const row = page.locator('#company-rows tr[data-id]').first();
    const id = await row.getAttribute('data-id');
    await row.locator('td').nth(3).click(); // the industry cell, not the name
    await page.locator('#popup .popup-card').waitFor();
    assert.equal(await page.locator('#popup [data-close]').count(), 1);
    await page.keyboard.press('Escape');
    await page.locator('#popup .popup-card').waitFor({ state: 'detached' });
    await row.focus();
    await page.keyboard.press('Enter');
    await page.locator('#popup .popup-card').waitFor();
    await assertAxeClean(page, 'quick view from a row');
    await shots(page, 'peek');

    await page.locator('#popup').getByRole('link', { name: 'Open' }).click();
    await page.locator(`#panel [data-record="${id}"]`).waitFor();
    await page.locator('#panel').getByLabel('Industry', { exact: true }).fill('Marine robotics');
    await page.locator('#panel').getByLabel('Industry', { exact: true }).press('Tab');
    await page.locator('#panel #field-industry .field-saved').waitFor();
    await htmxIdle(page);
    assert.equal((await row.locator('td').nth(3).textContent()).trim(), 'Marine robotics');
    await page.locator('#panel').getByLabel('City', { exact: true }).fill('York');
    await page.locator('#panel').getByLabel('City', { exact: true }).press('Tab');
    await page.locator('#panel #field-address_city .field-saved').waitFor();
    await htmxIdle(page);
    assert.equal((await row.locator('td').nth(4).textContent()).trim(), 'York');
  });

  test('2, 5, 7, 12: the queue panel follows the focus; a blank reason keeps the form', async () => {
    const { page } = js;
    const qSeg = await newSegment(page, server.baseURL, `Queue ${RUN}`);
    const ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await newCompany(page, server.baseURL, qSeg, { name: `Queue Co ${RUN} ${i}` }));
    await page.goto(`${server.baseURL}/approvals/companies?segment=${qSeg}`);
    assert.match(await page.locator('#list-count').textContent(), /^4 pending companies match$/);

    // 12: ? opens the keys as a dialog that does not move the table; Esc closes it
    const before = await page.locator('table[data-queue]').boundingBox();
    await page.keyboard.press('?');
    await page.locator('dialog#keys-help[open]').waitFor();
    assert.deepEqual(await page.locator('table[data-queue]').boundingBox(), before);
    await assertAxeClean(page, 'the keys dialog');
    await shots(page, 'queue-keys');
    await page.keyboard.press('Escape');
    await page.locator('dialog#keys-help[open]').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.closest('tr[data-id]')?.dataset.id), ids[0]);

    // 2: o opens the panel on the first; a approves it and the panel moves on to the second
    await page.keyboard.press('o');
    await page.locator(`#panel [data-record="${ids[0]}"]`).waitFor();
    await page.keyboard.press('a');
    await page.locator(`#panel [data-record="${ids[1]}"]`).waitFor();
    assert.equal((await companyJSON(page, server.baseURL, ids[0])).status, 'approved');
    assert.equal(await page.locator(`#queue-${ids[0]}`).count(), 0);
    assert.equal(await page.locator('table[data-queue] tr.is-focused').getAttribute('data-id'), ids[1]);
    await htmxIdle(page);
    assert.match(await page.locator('#list-count').textContent(), /^3 pending companies match$/);

    // a click moves the focus to another row while the panel shows the second: the first
    // a only brings that row into the panel, the second a approves what is now shown
    await page.locator(`#queue-${ids[2]} td`).nth(1).click();
    await page.keyboard.press('a');
    await page.locator(`#panel [data-record="${ids[2]}"]`).waitFor();
    await htmxIdle(page);
    assert.equal((await companyJSON(page, server.baseURL, ids[2])).status, 'pending', 'nothing approved unseen');
    assert.equal((await companyJSON(page, server.baseURL, ids[1])).status, 'pending');

    // 5: a blank reason in the panel keeps the buttons and says why beside the field
    const panel = page.locator('#panel');
    await panel.getByText('Reject…').click();
    await panel.getByLabel('Reason for rejecting').fill('   ');
    await panel.getByRole('button', { name: 'Reject company' }).click();
    await panel.locator('.field-error').waitFor();
    assert.match(await panel.locator('.field-error').textContent(), /reason/i);
    assert.equal(await panel.getByRole('button', { name: 'Approve' }).count(), 1);
    assert.equal(await panel.getByLabel('Reason for rejecting').getAttribute('aria-invalid'), 'true');
    await assertAxeClean(page, 'the panel with a reason refused');
    await shots(page, 'queue-reason');
    await panel.getByLabel('Reason for rejecting').fill('Too small for the segment.');
    await panel.getByRole('button', { name: 'Reject company' }).click();
    await page.locator(`#panel [data-record="${ids[3]}"]`).waitFor();
    assert.equal((await companyJSON(page, server.baseURL, ids[2])).status, 'rejected');

    // 5: the queue's inline reject says why too, not only with a red outline
    await page.locator(`#queue-${ids[1]} td`).nth(1).click();
    await page.keyboard.press('Escape'); // closes the panel
    await page.locator('#panel [data-record]').waitFor({ state: 'detached' });
    await page.locator(`#queue-${ids[1]} td`).nth(1).click();
    await page.keyboard.press('r');
    await page.keyboard.press('Enter');
    const inlineError = page.locator(`#queue-${ids[1]} .field-error`);
    await inlineError.waitFor();
    assert.match(await inlineError.textContent(), /reason/i);
    await page.keyboard.press('Escape');

    // 7: approving the last ones from the panel: a confirmation, the panel closes, all caught up
    await page.keyboard.press('o');
    await page.locator(`#panel [data-record="${ids[1]}"]`).waitFor();
    await panel.getByRole('button', { name: 'Approve' }).click();
    await page.locator(`#panel [data-record="${ids[3]}"]`).waitFor();
    await panel.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Nothing pending matches these filters' }).waitFor();
    assert.match(await page.locator('#flash').textContent(), new RegExp(`Queue Co ${RUN} 4 approved`));
    assert.equal(await page.locator('#panel [data-record]').count(), 0);
    await assertAxeClean(page, 'the emptied queue');
    await shots(page, 'queue-done');
  });

  test('16: with JavaScript off the queue shows no key hints', async () => {
    const { page } = nojs;
    const qSeg = await newSegment(js.page, server.baseURL, `Queue no-JS ${RUN}`);
    await newCompany(js.page, server.baseURL, qSeg, { name: `Quiet Co ${RUN}` });
    await page.goto(`${server.baseURL}/approvals/companies?segment=${qSeg}`);
    assert.match(await page.locator('#list-count').textContent(), /^1 pending company matches$/);
    for (const kbd of await page.locator('main kbd').all()) assert.equal(await kbd.isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Approve' }).isVisible(), true);
    await noScript.check(page.url(), 'the queue');
    await shots(page, 'queue-nojs');
  });

  test('5: JS off, a blank reason comes back as the open form with its message', async () => {
    const { page } = nojs;
    const qSeg = await newSegment(js.page, server.baseURL, `Reject no-JS ${RUN}`);
    const id = await newCompany(js.page, server.baseURL, qSeg, { name: `Blank Reason Co ${RUN}` });
    await page.goto(`${server.baseURL}/companies/${id}`);
    await page.getByText('Reject…').click();
    await page.getByLabel('Reason for rejecting').fill('  ');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Reject company' }).click()]);
    assert.match(await page.locator('.decision-box .field-error').textContent(), /reason/i);
    assert.equal(await page.getByLabel('Reason for rejecting').isVisible(), true);
    assert.equal(await page.getByRole('button', { name: 'Approve' }).isVisible(), true);
  });

  test('13, 15, 8: an all-failed upload says so; an upload lists in file order; the grid fits', async () => {
    const { page } = js;
    const upload = async (name, lines) => {
      await page.goto(`${server.baseURL}/imports/companies/new`);
      await page.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\r\n')}\r\n`) });
      await Promise.all([page.waitForURL(/\/imports\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Upload and import' }).click()]);
      await page.getByText('Rows in the file').waitFor({ timeout: 60_000 });
      return new URL(page.url()).pathname.split('/')[2];
    };
    // 15: five rows, deliberately not in alphabetical order
    const names = ['Echo', 'Delta', 'Charlie', 'Bravo', 'Alpha'].map((n) => `${n} Order ${RUN}`);
    const ordered = await upload('order.csv', ['Company Name,Segment Name', ...names.map((n) => `${n},${segName}`)]);
    await page.goto(`${server.baseURL}/companies?batch=${ordered}`);
    const listed = await page.locator('#company-rows tr[data-id] td:first-child a').allTextContents();
    assert.deepEqual(listed, names, 'the rows of one upload list in file order');

    // 13: every row fails (no such segment)
    const bad = [];
    for (let i = 1; i <= 4; i++) bad.push(`Bad Row ${RUN} ${i},No Such Segment ${RUN},,,,,,,,,,,,,19x9`);
    const failed = await upload('all-bad.csv', ['Company Name,Segment Name,Company Website,Company Phone,Company Description,Company LinkedIn URL,Company Industry,Company Sub-Industry,Street,City,State/Province,Country/Region,ZIP/Postal Code,Founded Year', ...bad]);
    const badge = page.locator('.page-head .badge');
    assert.equal((await badge.textContent()).trim(), 'completed — 0 imported');
    assert.match(await badge.getAttribute('class'), /badge-warning/);
    await page.goto(`${server.baseURL}/imports`);
    const rowBadge = page.locator('tr', { hasText: 'all-bad.csv' }).first().locator('.badge');
    assert.equal((await rowBadge.textContent()).trim(), 'completed — 0 imported');
    await assertAxeClean(page, '/imports');
    await shots(page, 'imports');

    // 8: the correction grid at 1366×768: no page-wide overflow, every Re-check button on screen
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(`${server.baseURL}/imports/${failed}/fix`);
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    const button = page.getByRole('button', { name: 'Re-check row 2' });
    await button.scrollIntoViewIfNeeded();
    const box = await button.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 1366, `Re-check is off screen: ${JSON.stringify(box)}`);
    const rowError = page.locator('#fix-row-2 .fix-row-errors, #fix-row-2 .field-error').first();
    const eb = await rowError.boundingBox();
    assert.ok(eb && eb.x >= 0 && eb.x + eb.width <= 1366, 'the first error of the row is on screen');
    await assertAxeClean(page, 'the correction grid');
    await shots(page, 'fix-grid');
  });

  test('10: an offering can be renamed, described and deactivated', async () => {
    const { page } = js;
    const name = `Walk Offering ${RUN}`;
    await page.goto(`${server.baseURL}/offerings`);
    await post(page, server.baseURL, '/offerings', { name });
    await post(page, server.baseURL, '/offerings', { name: `Other Offering ${RUN}` });
    await page.goto(`${server.baseURL}/offerings?q=${encodeURIComponent(name)}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name }).click()]);
    assert.match(new URL(page.url()).pathname, /^\/offerings\/[0-9a-f-]{36}$/);
    await assertAxeClean(page, 'the offering page');
    await shots(page, 'offering');
    // a name another offering has is refused, beside the field, nothing saved
    await page.getByLabel('Name', { exact: true }).fill(`other offering ${RUN}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save offering' }).click()]);
    assert.match(await page.locator('#offering-name-error').textContent(), /already has this name/);
    await page.getByLabel('Name', { exact: true }).fill(`${name} Renamed`);
    await page.getByLabel('Description', { exact: true }).fill('Now with a description');
    await page.getByLabel('Status', { exact: true }).selectOption('inactive');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save offering' }).click()]);
    assert.match(await page.locator('#flash').textContent(), /Offering saved/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `${name} Renamed`);
    await page.goto(`${server.baseURL}/offerings?q=${encodeURIComponent(name)}`);
    const row = page.locator('tr', { hasText: `${name} Renamed` });
    assert.match(await row.textContent(), /Inactive/);
    assert.match(await row.textContent(), /Now with a description/);
    // the timeline of changes is audited
    const id = new URL(await row.getByRole('link').getAttribute('href'), server.baseURL).pathname.split('/').pop();
    assert.equal(sql(`SELECT count(*) FROM audit_logs WHERE entity_type = 'offering' AND entity_id = :'id' AND action = 'update'`, { id }), '1');
  });

  test('16, 17: the company page has a breadcrumb, one date style, and two columns', async () => {
    const { page } = js;
    await page.goto(`${server.baseURL}/companies?segment=${seg}&q=Zebra`);
    for (const t of await page.locator('#company-rows time').allTextContents()) assert.doesNotMatch(t, /^0\d/, `date "${t}"`);
    const id = await page.locator('#company-rows tr[data-id]').first().getAttribute('data-id');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`${server.baseURL}/companies/${id}`);
    const crumb = page.getByRole('navigation', { name: 'Breadcrumb' });
    assert.match(await crumb.locator('[aria-current="page"]').textContent(), /Zebra Works/);
    const details = await page.getByRole('heading', { name: 'Details' }).boundingBox();
    const status = await page.getByRole('heading', { name: 'Status' }).boundingBox();
    assert.ok(status.x > details.x + details.width, 'status sits beside the details, not under them');
    assert.ok(Math.abs(status.y - details.y) < 40, 'both columns start at the top');
    await assertAxeClean(page, 'the company page');
    await shots(page, 'company-page');
  });

  test('3: deactivation asks first; yourself never; JS off through a page', async () => {
    const { page } = js;
    const email = `walk-${RUN}@example.com`;
    sql(`WITH u AS (INSERT INTO users (email, name) VALUES (:'email', 'Walk Person') RETURNING id)
         INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM u, roles r WHERE r.name = 'Researcher'`, { email });
    const userId = sql(`SELECT id FROM users WHERE email = :'email'`, { email });
    const selfId = sql(`SELECT id FROM users WHERE email = 'admin@example.com'`);

    // yourself: no button, and the confirmation page refuses too
    await page.goto(`${server.baseURL}/admin/users/${selfId}`);
    assert.equal(await page.getByRole('link', { name: 'Deactivate user…' }).count(), 0);
    assert.match(await page.locator('main').textContent(), /can’t deactivate it/);
    await page.goto(`${server.baseURL}/admin/users/${selfId}/deactivate`);
    assert.equal(await page.getByRole('button', { name: /^Deactivate/ }).count(), 0);

    // someone else: a dialog first; Cancel changes nothing
    await page.goto(`${server.baseURL}/admin/users/${userId}`);
    await page.getByRole('link', { name: 'Deactivate user…' }).click();
    const dialog = page.locator('dialog#deactivate-dialog[open]');
    await dialog.waitFor();
    await assertAxeClean(page, 'the deactivate dialog');
    await shots(page, 'deactivate-dialog');
    await dialog.getByRole('link', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(sql(`SELECT is_active FROM users WHERE id = :'id'`, { id: userId }), 't');
    await page.getByRole('link', { name: 'Deactivate user…' }).click();
    await Promise.all([page.waitForNavigation(), dialog.getByRole('button', { name: 'Deactivate Walk Person' }).click()]);
    assert.equal(sql(`SELECT is_active FROM users WHERE id = :'id'`, { id: userId }), 'f');

    // JS off: the link leads to a confirmation page with the button
    sql(`UPDATE users SET is_active = true, deactivated_at = NULL WHERE id = :'id'`, { id: userId });
    await nojs.page.goto(`${server.baseURL}/admin/users/${userId}`);
    await Promise.all([nojs.page.waitForNavigation(), nojs.page.getByRole('link', { name: 'Deactivate user…' }).click()]);
    assert.match(new URL(nojs.page.url()).pathname, /\/deactivate$/);
    await noScript.check(nojs.page.url(), 'the deactivate page');
    await shots(nojs.page, 'deactivate-page');
    await Promise.all([nojs.page.waitForNavigation(), nojs.page.getByRole('button', { name: 'Deactivate Walk Person' }).click()]);
    assert.equal(sql(`SELECT is_active FROM users WHERE id = :'id'`, { id: userId }), 'f');
  });
});
