// Contacts in a real Chromium against the real server (issue 10). A Researcher adds a contact
// to an approved company from the company's page by the form (a line break in the LinkedIn
// summary survives, the e-mail is lower-cased), uploads a contact CSV with good and bad rows
// and fixes a bad row in the correction grid. Then an Approver clears the contacts tab of the
// approval queue with the keyboard alone: x selects, j moves, x selects, A asks "Approve 2
// contacts?" and Enter approves both; the focus lands on the row left, and a approves it; the
// tab's count follows. The same bulk approval works with JavaScript off (checkboxes and one
// "Approve selected" button). Pages are checked with axe and photographed at 1366x768 and
// 1920x1080; no page logs a console error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startServer } from './lib/server.mjs';
import { launchBrowser, newPage, screenshot, settle } from './lib/browser.mjs';
import { assertAxeClean, post, signIn, sql } from './lib/app.mjs';

// The shared e2e database keeps earlier runs' rows: names carry this run's tag.
const RUN = `${Date.now().toString(36)}${process.pid}`;
const SEGMENT = `E2E Contacts ${RUN}`;
const SEGMENT_NOJS = `E2E Contacts no-JS ${RUN}`;
const PASSWORD = 'Contacts-Passw0rd-e2e';
const RESEARCHER = { name: 'Rita Research', email: `rita.${RUN}@example.com` };
const APPROVER = { name: 'Abe Approve', email: `abe.${RUN}@example.com` };
const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

function assertClean(problems, where) {
  const failed = problems.failedRequests.filter((f) => !/\/assets\/favicon\.svg\S*: net::ERR_ABORTED$/.test(f));
  assert.deepEqual(problems.consoleErrors, [], `console errors on ${where}`);
  assert.deepEqual(problems.pageErrors, [], `page errors on ${where}`);
  assert.deepEqual(failed, [], `failed requests on ${where}`);
  assert.deepEqual(problems.badResponses, [], `error responses on ${where}`);
}

// Axe-clean and photographed at both screen sizes the brief names.
async function lookAt(page, name) {
  const before = page.viewportSize();
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await assertAxeClean(page, `${name} at ${size.width}x${size.height}`);
    await screenshot(page, `${name}-${size.width}`, { fullPage: false });
  }
  await page.setViewportSize(before);
}

async function json(page, url) {
  const res = await page.request.get(url, { headers: { Accept: 'application/json' } });
  assert.equal(res.status(), 200, `GET ${url}`);
  return res.json();
}

function roleId(name) {
  return sql("select id from roles where name = :'r'", { r: name });
}

function quote(v) {
  return `"${String(v).replace(/"/g, '""')}"`;
}

describe('contacts', () => {
  let server;
  let browser;
  let admin;
  let segment;
  let acme;
  let pending;
  let formContact;
  let batch;

  async function company(name, segmentId, approve) {
    const loc = await post(admin.page, server.baseURL, '/companies', { segment_id: segmentId, name });
    const id = loc.split('/')[2];
    if (approve) await post(admin.page, server.baseURL, `/companies/${id}/approve`, {});
    return id;
  }

  async function user(person, role) {
    await post(admin.page, server.baseURL, '/admin/users', {
      name: person.name,
      email: person.email,
      role_id: roleId(role),
      sign_in: 'password',
      password: PASSWORD,
    });
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    admin = await newPage(browser);
    await signIn(admin.page, server.baseURL, ADMIN_EMAIL, ADMIN_PASSWORD);
    segment = (await post(admin.page, server.baseURL, '/segments', { name: SEGMENT })).split('/')[2];
    acme = await company(`Acme Robotics ${RUN}`, segment, true);
    pending = await company(`Pending Widgets ${RUN}`, segment, false);
    await user(RESEARCHER, 'Researcher');
    await user(APPROVER, 'Approver');
  });

  after(async () => {
    if (admin) await admin.context.close();
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('a researcher adds a contact to an approved company by the form', async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await signIn(page, server.baseURL, RESEARCHER.email, PASSWORD);
      await page.goto(`${server.baseURL}/companies/${acme}`);
      await page.waitForLoadState('networkidle');
      problems.reset();
      // the company page lists its contacts (none yet) and offers to add one
      assert.match(await page.locator('.related-contacts').textContent(), /No contacts yet/);
      await Promise.all([page.waitForURL(/\/contacts\/new\?company=/), page.getByRole('link', { name: 'Add contact' }).click()]);
      assert.equal(await page.getByLabel('Company', { exact: true }).inputValue(), acme);
      // a pending company is not offered at all
      assert.equal(await page.locator(`#n-company option[value="${pending}"]`).count(), 0);
      await lookAt(page, 'contacts-new');

      await page.getByLabel('First name').fill('  Grace  ');
      await page.getByLabel('Last name').fill('Hopper');
      await page.getByLabel('E-mail', { exact: true }).fill(' Grace.Hopper@Acme.EXAMPLE ');
      await page.getByLabel('Job title').fill('Rear   Admiral');
      await page.getByLabel('LinkedIn summary').fill('Wrote the first compiler.\nInvented COBOL.');
      await Promise.all([page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Create contact' }).click()]);
      formContact = new URL(page.url()).pathname.split('/')[2];
      assert.match(await page.locator('#flash').textContent(), /Contact created/);

      const k = await json(page, `${server.baseURL}/contacts/${formContact}`);
      assert.equal(k.first_name, 'Grace');
      assert.equal(k.email, 'grace.hopper@acme.example');
      assert.equal(k.job_title, 'Rear Admiral');
      assert.equal(k.linkedin_summary, 'Wrote the first compiler.\nInvented COBOL.');
      assert.equal(k.status, 'uploaded');
      assert.equal(k.segment_id, segment);
      // the page shows the line break: the summary's field holds both lines
      assert.equal(await page.getByLabel('LinkedIn summary').inputValue(), 'Wrote the first compiler.\nInvented COBOL.');
      assert.match(await page.locator('.status-history').textContent(), /Uploaded\s+by Rita Research/);
      await lookAt(page, 'contacts-page');

      // the company's page lists it now
      await page.goto(`${server.baseURL}/companies/${acme}`);
      assert.match(await page.locator('.related-contacts').textContent(), /Grace Hopper/);
      assertClean(problems, 'the new contact flow');
    } finally {
      await context.close();
    }
  });

  test('the researcher uploads a contact CSV with good and bad rows and fixes one in the grid', async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await signIn(page, server.baseURL, RESEARCHER.email, PASSWORD);
      await page.goto(`${server.baseURL}/imports/contacts/new`, { waitUntil: 'networkidle' });
      problems.reset();
      const lines = [
        'First Name,Last Name,Email,Company Name,Segment Name,Job Title,LinkedIn Summary',
        ['Alan', 'Turing', 'alan@acme.example', `acme robotics ${RUN}`, SEGMENT, 'Mathematician', 'Line one\nLine two'],
        ['Ada', 'Lovelace', 'not-an-email', `Acme Robotics ${RUN}`, SEGMENT, 'Analyst', ''],
        ['Bob', 'Pending', 'bob@pending.example', `Pending Widgets ${RUN}`, SEGMENT, '', ''],
      ].map((l) => (Array.isArray(l) ? l.map(quote).join(',') : l));
      await page.getByLabel('CSV file').setInputFiles({
        name: 'contacts.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'),
      });
      await Promise.all([page.waitForURL(/\/imports\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Upload and import' }).click()]);
      batch = new URL(page.url()).pathname.split('/')[2];
      await page.getByText('Rows in the file').waitFor({ timeout: 60_000 });
      const result = await json(page, `${server.baseURL}/imports/${batch}`);
      assert.equal(result.valid_rows, 1);
      assert.equal(result.invalid_rows, 2);

      await Promise.all([page.waitForURL(/\/fix$/), page.getByRole('link', { name: 'Fix failed rows' }).click()]);
      assert.match(await page.locator('#fix-row-4').textContent(), /pending approval/);
      const email = page.getByLabel('Row 3, Email');
      await email.fill('ada@acme.example');
      await page.keyboard.press('Enter');
      await page.locator('#fix-row-3 .fix-done').waitFor();
      await page.waitForFunction(() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added'));
      await settle(page);
      await lookAt(page, 'contacts-import-fix');

      // the batch's contacts: the good row and the fixed one, in file order
      const list = await json(page, `${server.baseURL}/contacts?batch=${batch}`);
      assert.deepEqual(list.rows.map((r) => r.email), ['alan@acme.example', 'ada@acme.example']);
      const alan = await json(page, `${server.baseURL}/contacts/${list.rows[0].id}`);
      assert.equal(alan.linkedin_summary, 'Line one\nLine two');
      assert.equal(alan.batch_id, batch);
      assertClean(problems, 'the contact import');
    } finally {
      await context.close();
    }
  });

  test('an approver clears the contacts tab with the keyboard alone: x, j, x, A, then a', async () => {
    const { page, problems, context } = await newPage(browser, { viewport: SIZES[0] });
    try {
      await signIn(page, server.baseURL, APPROVER.email, PASSWORD);
      const queue = `${server.baseURL}/approvals/contacts?segment=${segment}`;
      await page.goto(queue, { waitUntil: 'networkidle' });
      problems.reset();
      const ids = () => page.locator('#contact-rows tr[data-id]').evaluateAll((rows) => rows.map((r) => r.dataset.id));
      const queued = await ids();
      assert.equal(queued.length, 3, 'the form contact, the good row and the fixed row');
      assert.equal(queued[0], formContact, 'oldest first');
      const tabCount = async () => Number((await page.locator('#queue-tabs [data-count="contacts"]').textContent()).replace(/,/g, ''));
      const countBefore = await tabCount();
      await lookAt(page, 'contacts-queue');

      // keys only from here: the first row has the focus
      await page.keyboard.press('x');
      await page.keyboard.press('j');
      await page.keyboard.press('x');
      assert.equal(await page.locator('input[data-select]:checked').count(), 2);
      assert.match(await page.locator('[data-approve-selected]').textContent(), /\(2\)/);
      await page.keyboard.press('Shift+A');
      const confirm = page.locator('#approve-confirm');
      await confirm.waitFor({ state: 'visible' });
      assert.match(await confirm.textContent(), /Approve 2 contacts\?/);
      await assertAxeClean(page, 'the bulk approval confirmation');
      await screenshot(page, 'contacts-queue-confirm', { fullPage: false });
      await page.keyboard.press('Enter');
      await page.locator(`#queue-${queued[0]}`).waitFor({ state: 'detached' });
      await page.locator(`#queue-${queued[1]}`).waitFor({ state: 'detached' });
      assert.match(await page.locator('#flash').textContent(), /2 contacts approved\./);
      // the focus is on the row that is left, and the tab counts two fewer
      await page.waitForFunction((id) => document.activeElement && document.activeElement.closest(`#queue-${id}`), queued[2]);
      await page.waitForFunction(
        (want) => Number(document.querySelector('#queue-tabs [data-count="contacts"]').textContent.replace(/,/g, '')) === want,
        countBefore - 2,
      );
      await page.keyboard.press('a');
      await page.locator('#contact-results .empty').waitFor();
      assert.match(await page.locator('#flash').textContent(), /1 contact approved\./);
      await settle(page);
      await lookAt(page, 'contacts-queue-cleared');

      for (const id of queued) assert.equal((await json(page, `${server.baseURL}/contacts/${id}`)).status, 'approved');
      const k = await json(page, `${server.baseURL}/contacts/${queued[0]}`);
      assert.deepEqual(k.history.map((h) => h.status), ['uploaded', 'approved']);
      assert.equal(k.history[1].by, APPROVER.name);
      assertClean(problems, 'the contacts tab');
    } finally {
      await context.close();
    }
  });

  test('with JavaScript off: tick boxes, "Approve selected"', async () => {
    const seg = (await post(admin.page, server.baseURL, '/segments', { name: SEGMENT_NOJS })).split('/')[2];
    const co = await company(`NoJS Corp ${RUN}`, seg, true);
    const made = [];
    for (const who of ['Una', 'Dos', 'Tres']) {
      const loc = await post(admin.page, server.baseURL, '/contacts', {
        company_id: co,
        first_name: who,
        last_name: 'NoScript',
        email: `${who.toLowerCase()}.${RUN}@nojs.example`,
      });
      made.push(loc.split('/')[2]);
    }
    const { page, problems, context } = await newPage(browser, { javaScriptEnabled: false, viewport: SIZES[1] });
    try {
      await signIn(page, server.baseURL, APPROVER.email, PASSWORD);
      const queue = `${server.baseURL}/approvals/contacts?segment=${seg}`;
      await page.goto(queue);
      problems.reset();
      await screenshot(page, 'contacts-queue-nojs-1920', { fullPage: false });
      await page.getByLabel('Select Una NoScript').check();
      await page.getByLabel('Select Tres NoScript').check();
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /Approve selected/ }).click()]);
      assert.match(await page.locator('#flash').textContent(), /2 contacts approved\./);
      assert.deepEqual(await page.locator('#contact-rows tr[data-id]').evaluateAll((rows) => rows.map((r) => r.dataset.id)), [made[1]]);
      // one row's own button approves just that one
      await Promise.all([page.waitForNavigation(), page.locator(`#queue-${made[1]}`).getByRole('button', { name: /Approve/ }).click()]);
      assert.match(await page.locator('#flash').textContent(), /1 contact approved\./);
      assert.equal(await page.locator('#contact-rows tr[data-id]').count(), 0);
      assertClean(problems, 'the no-JS contacts tab');
    } finally {
      await context.close();
    }
    // axe cannot run without script: the same page, scripts refused, in a normal context
    const view = await newPage(browser);
    try {
      await view.context.route(/\/assets\/.*\.js(\?.*)?$/, (route) => route.abort());
      await signIn(view.page, server.baseURL, APPROVER.email, PASSWORD);
      await view.page.goto(`${server.baseURL}/approvals/contacts`);
      await assertAxeClean(view.page, '/approvals/contacts (no JS)');
    } finally {
      await view.context.close();
    }
  });
});
