// Duplicate detection and marketing collateral in a real Chromium against the real server.
//
// An Admin changes the duplicate job's schedule (the preview of the next runs follows what is
// typed), presses Run now, watches the run finish on the page (htmx polling), opens a company
// the run flagged and follows its link to the original, which lists it as its duplicate.
// Marketing adds a collateral link to a segment from the segment's page and one to a lead
// (contact) through the keyboard-operable scope picker, finds both on /collateral and the
// first on the segment's page, removes one, and the activity log shows the removal with the
// link's title and address. The same with JavaScript off: the schedule saved by a plain post,
// the run followed by the page's own refresh, a link added with the picker's Find button.
// Every page is checked with axe and photographed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchBrowser, newPage, screenshot } from './lib/browser.mjs';
import { assertAxeClean, noScriptView, post, signIn, sql, stopChecked } from './lib/app.mjs';

const RUN = Date.now().toString(36).slice(-4).toUpperCase();
const MARKETING = { email: `marketing-${RUN.toLowerCase()}@dedup-e2e.example`, password: 'Plenty-long-secret-42' };

// The data, straight into the database: one segment with an approved company, a copy of it
// typed differently and created later (a duplicate), the same company in a second segment (not
// one), and a contact at the approved company.
function seed() {
  return sql(
    `WITH u AS (SELECT id FROM users WHERE email = 'admin@example.com'),
     s1 AS (INSERT INTO segments (name, created_by) SELECT 'Dedup Segment ' || :'run', id FROM u RETURNING id),
     s2 AS (INSERT INTO segments (name, created_by) SELECT 'Dedup Other ' || :'run', id FROM u RETURNING id),
     o AS (INSERT INTO companies (name, website, segment_id, status, created_by, created_at)
           SELECT 'Orbit Dynamics ' || :'run', 'https://www.orbit-' || lower(:'run') || '.example/', s1.id, 'approved', u.id, now() - interval '2 days' FROM s1, u RETURNING id, segment_id),
     d AS (INSERT INTO companies (name, website, segment_id, status, created_by, created_at)
           SELECT 'ORBIT  DYNAMICS ' || :'run', 'http://orbit-' || lower(:'run') || '.example/about', s1.id, 'pending', u.id, now() - interval '1 day' FROM s1, u RETURNING id),
     x AS (INSERT INTO companies (name, website, segment_id, status, created_by)
           SELECT 'Orbit Dynamics ' || :'run', 'https://orbit-' || lower(:'run') || '.example', s2.id, 'pending', u.id FROM s2, u RETURNING id),
     k AS (INSERT INTO contacts (first_name, last_name, email, company_id, created_by)
           SELECT 'Lena', 'Lead' || :'run', 'lena-' || lower(:'run') || '@orbit.example', o.id, u.id FROM o, u RETURNING id)
     SELECT s1.id, o.id, d.id, x.id, k.id FROM s1, o, d, x, k;`,
    { run: RUN },
  ).split('|');
}

async function flash(page) {
  return (await page.locator('#flash').textContent()).trim();
}

describe('duplicate detection and collateral', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let ids;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ids = seed();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await stopChecked(server);
  });

  test('an Admin schedules the job, runs it now, watches it finish and follows a duplicate to its original', async () => {
    const [segmentId, originalId, duplicateId, otherSegmentId] = ids;
    const { page, problems } = await newPage(browser);
    await signIn(page, server.baseURL);
    await page.goto(`${server.baseURL}/admin/dedup`);
    await assertAxeClean(page, '/admin/dedup');

    // the preview follows what is typed, before anything is saved
    const field = page.getByLabel('When it runs');
    await field.fill('15 4 * * mon');
    await page.locator('#dedup-preview').getByText('Monday').first().waitFor();
    await field.fill('75 4 * * mon');
    await page.locator('#dedup-preview').getByText('Not a schedule yet').waitFor();
    // a refused save keeps what was typed beside the message
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save schedule' }).click()]);
    assert.match(await page.locator('#dedup-schedule-error').textContent(), /minute/);
    assert.equal(await page.getByLabel('When it runs').inputValue(), '75 4 * * mon');
    await page.getByLabel('When it runs').fill('15 4 * * mon');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save schedule' }).click()]);
    assert.match(await flash(page), /Schedule saved/);
    assert.equal(await page.getByLabel('When it runs').inputValue(), '15 4 * * mon');
    assert.match(await page.locator('#dedup-preview').textContent(), /Monday .* 04:15 UTC/);
    assert.equal(sql(`SELECT value FROM settings WHERE key = 'dedup_schedule'`), '15 4 * * mon');

    // Run now: the page follows the run by itself until it is done
    const before = Number(sql(`SELECT count(*) FROM dedup_runs`));
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Run now' }).click()]);
    assert.match(await flash(page), /started/);
    await page.locator('.dedup-idle').waitFor({ timeout: 60_000 });
    assert.equal(Number(sql(`SELECT count(*) FROM dedup_runs WHERE status = 'done'`)), before + 1);
    const firstRow = page.locator('tr.dedup-run').first();
    assert.match(await firstRow.textContent(), /Admin/);
    assert.match(await firstRow.textContent(), /done/);
    await assertAxeClean(page, '/admin/dedup after a run');
    await screenshot(page, 'dedup-admin');

    // the flagged companies, through the page's link (the list filtered to duplicates)
    await Promise.all([page.waitForNavigation(), page.locator('.dedup-flagged a').first().click()]);
    assert.match(page.url(), /\/companies\?duplicates=only$/);
    const rows = page.locator('#company-rows tr');
    await rows.first().waitFor();
    assert.ok((await page.locator(`#company-${duplicateId}`).count()) === 1, 'the duplicate is listed');
    assert.equal(await page.locator(`#company-${originalId}`).count(), 0, 'the original is not a duplicate');
    assert.equal(await page.locator(`#company-${otherSegmentId}`).count(), 0, 'another segment is never a duplicate');
    // and the default list hides it
    await page.goto(`${server.baseURL}/companies?segment=${segmentId}`);
    assert.equal(await page.locator(`#company-${duplicateId}`).count(), 0);

    // the duplicate's page names its original; the original lists its duplicate
    await page.goto(`${server.baseURL}/companies/${duplicateId}`);
    assert.match(await page.locator('.dup-note').textContent(), /Duplicate\./);
    await assertAxeClean(page, 'a duplicate company');
    await screenshot(page, 'dedup-duplicate-company');
    await Promise.all([page.waitForNavigation(), page.locator('a.dup-original').click()]);
    assert.equal(new URL(page.url()).pathname, `/companies/${originalId}`);
    assert.equal(await page.locator('.dup-list a').getAttribute('href'), `/companies/${duplicateId}`);
    assert.equal(await page.locator('.dup-note').count(), 0);
    // the quick view says so too
    await page.goto(`${server.baseURL}/companies/${duplicateId}/peek`);
    assert.equal(await page.locator('a.dup-original').getAttribute('href'), `/companies/${originalId}`);
    assert.deepEqual(problems.pageErrors, []);
    // the refused schedule was answered 422 on purpose
    assert.deepEqual(problems.consoleErrors.filter((e) => !/422 .*\/admin\/dedup\/schedule/.test(e)), []);
  });

  test('with JavaScript off the schedule saves and the page refreshes until the run is done', async () => {
    const { page } = await newPage(browser, { javaScriptEnabled: false });
    await signIn(page, server.baseURL);
    await page.goto(`${server.baseURL}/admin/dedup`);
    await page.getByLabel('When it runs').fill('off');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save schedule' }).click()]);
    assert.match(await page.locator('#dedup-preview').textContent(), /only when someone presses/);
    assert.equal(sql(`SELECT value FROM settings WHERE key = 'dedup_schedule'`), 'off');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Run now' }).click()]);
    // the <noscript> refresh reloads the page until the run has ended
    await page.locator('.dedup-idle').waitFor({ timeout: 60_000 });
    await screenshot(page, 'dedup-admin-nojs');
    const view = await noScriptView(browser, server.baseURL, newPage);
    await view.check(`${server.baseURL}/admin/dedup`, '/admin/dedup');
    await view.check(`${server.baseURL}/companies/${ids[2]}`, 'a duplicate company');
    await view.context.close();
  });

  test('Marketing adds collateral to a segment and to a lead, finds it, removes one, and the removal is in the log', async () => {
    const [segmentId, , , , contactId] = ids;
    const admin = await newPage(browser);
    await signIn(admin.page, server.baseURL);
    const roleId = sql(`SELECT id FROM roles WHERE name = 'Marketing'`);
    await post(admin.page, server.baseURL, '/admin/users', {
      name: `Mara Marketing ${RUN}`, email: MARKETING.email, role_id: roleId, sign_in: 'password', password: MARKETING.password,
    });
    await admin.context.close();

    const { page, problems } = await newPage(browser);
    await signIn(page, server.baseURL, MARKETING.email, MARKETING.password);

    // from the segment's page: the form comes with the segment chosen
    await page.goto(`${server.baseURL}/segments/${segmentId}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Add link' }).click()]);
    await assertAxeClean(page, '/collateral/new');
    await page.getByLabel('Title').fill(`Orbit pitch deck ${RUN}`);
    await page.getByLabel('Address (URL)').fill(`SharePoint.Example.com/sites/mkt/Orbit-${RUN}.pptx/`);
    assert.ok(await page.locator(`input[name=scope_id][value="${segmentId}"]`).isChecked());
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add link' }).click()]);
    assert.equal(new URL(page.url()).pathname, `/segments/${segmentId}`);
    const deck = page.locator('.collateral-links a', { hasText: `Orbit pitch deck ${RUN}` });
    assert.equal(await deck.getAttribute('href'), `https://sharepoint.example.com/sites/mkt/Orbit-${RUN}.pptx`);
    await assertAxeClean(page, 'the segment with its collateral');
    await screenshot(page, 'collateral-segment');

    // a lead, through the picker with the keyboard alone
    await page.goto(`${server.baseURL}/collateral/new`);
    await page.getByLabel('Title').fill(`Letter for Lena ${RUN}`);
    await page.getByLabel('Address (URL)').fill(`https://files.example/letters/lena-${RUN}`);
    await page.getByRole('radio', { name: 'Lead (contact)' }).focus();
    await page.keyboard.press('Space');
    await page.getByLabel('Find', { exact: true }).focus();
    await page.keyboard.type(`Lead${RUN}`);
    const option = page.locator(`input[name=scope_id][value="${contactId}"]`);
    await option.waitFor();
    await page.keyboard.press('Tab'); // past the Find button…
    await page.keyboard.press('Tab'); // …into the matches
    await page.keyboard.press('Space');
    assert.ok(await option.isChecked(), 'the lead is chosen with the keyboard');
    await assertAxeClean(page, 'the scope picker with matches');
    await screenshot(page, 'collateral-picker');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add link' }).click()]);
    assert.match(await flash(page), /Link added/);

    // both on /collateral; the scope filter keeps only the lead's
    await page.goto(`${server.baseURL}/collateral?q=${RUN}`);
    assert.equal(await page.locator('#collateral-rows tr').count(), 2);
    await page.goto(`${server.baseURL}/collateral?q=${RUN}&scope_type=lead`);
    assert.equal(await page.locator('#collateral-rows tr').count(), 1);
    assert.match(await page.locator('#collateral-rows').textContent(), new RegExp(`Letter for Lena ${RUN}`));
    await assertAxeClean(page, '/collateral');

    // remove the deck; the activity log keeps its title and address
    await page.goto(`${server.baseURL}/collateral?q=${encodeURIComponent(`Orbit pitch deck ${RUN}`)}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: `Remove Orbit pitch deck ${RUN}` }).click()]);
    await assertAxeClean(page, 'the remove confirmation');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Remove link' }).click()]);
    assert.match(await flash(page), /Removed/);
    const removal = page.locator('.collateral-activity li', { hasText: 'removed' }).first();
    assert.match(await removal.textContent(), new RegExp(`Orbit pitch deck ${RUN}`));
    assert.match(await removal.textContent(), new RegExp(`https://sharepoint.example.com/sites/mkt/Orbit-${RUN}.pptx`));
    await screenshot(page, 'collateral-removed');
    await page.goto(`${server.baseURL}/segments/${segmentId}`);
    assert.equal(await page.locator('.collateral-links a', { hasText: `Orbit pitch deck ${RUN}` }).count(), 0);
    assert.deepEqual(problems.pageErrors, []);
    assert.deepEqual(problems.consoleErrors, []);
  });

  test('with JavaScript off Marketing finds a lead with the Find button and adds a link', async () => {
    const [, , , , contactId] = ids;
    const { page } = await newPage(browser, { javaScriptEnabled: false });
    await signIn(page, server.baseURL, MARKETING.email, MARKETING.password);
    await page.goto(`${server.baseURL}/collateral/new`);
    await page.getByLabel('Title').fill(`No-script note ${RUN}`);
    await page.getByLabel('Address (URL)').fill('notes.example/n');
    await page.getByRole('radio', { name: 'Lead (contact)' }).check();
    await page.getByLabel('Find', { exact: true }).fill(`Lead${RUN}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Find' }).click()]);
    // what was typed is kept; the matches are there to choose
    assert.equal(await page.getByLabel('Title').inputValue(), `No-script note ${RUN}`);
    await page.locator(`input[name=scope_id][value="${contactId}"]`).check();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add link' }).click()]);
    assert.equal(
      sql(`SELECT url FROM marketing_collaterals WHERE title = :'t' AND scope_type = 'lead' AND scope_id = :'c'`, { t: `No-script note ${RUN}`, c: contactId }),
      'https://notes.example/n',
    );
    await screenshot(page, 'collateral-nojs');
    const view = await noScriptView(browser, server.baseURL, newPage);
    await view.check(`${server.baseURL}/collateral`, '/collateral');
    await view.check(`${server.baseURL}/collateral/new?scope_type=lead`, '/collateral/new');
    await view.context.close();
  });
});
