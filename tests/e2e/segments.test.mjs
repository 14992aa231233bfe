// Segments and offerings in a real Chromium against the real server. An Admin creates a
// segment choosing one existing offering and creating a new one through the auto-complete
// with the keyboard alone (type, ArrowDown, Enter), saves it and finds both offerings on the
// segment's page; archives it and sees it leave the default list and come back with the
// toggle. The same creation works with JavaScript off through the checkbox list and the
// "new offering" field. Every page is checked with axe and photographed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startServer } from './lib/server.mjs';
import { axeCheck, formatViolations, launchBrowser, newPage, screenshot } from './lib/browser.mjs';

// The shared e2e database keeps earlier runs' rows: every name carries this run's short tag
// (the last four base-36 digits of the clock in milliseconds; they repeat every 28 minutes).
const RUN = Date.now().toString(36).slice(-4).toUpperCase();

function assertNoViolations(violations, where) {
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where}:\n${formatViolations(violations)}`);
}

function assertClean(problems, where) {
  // A navigation started by a form post may cut short the previous page's favicon request.
  const failed = problems.failedRequests.filter((r) => !/favicon\.svg.*ERR_ABORTED/.test(r));
  assert.deepEqual(problems.consoleErrors, [], `console errors on ${where}`);
  assert.deepEqual(problems.pageErrors, [], `page errors on ${where}`);
  assert.deepEqual(failed, [], `failed requests on ${where}`);
  assert.deepEqual(problems.badResponses, [], `error responses on ${where}`);
}

async function signIn(page, baseURL) {
  await page.goto(`${baseURL}/login`);
  await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, 'sign-in failed');
}

// Plain form posts through the browser's session (the CSRF token is the one htmx sends), multipart
// like every form of the app (Kore drops urlencoded values with line breaks).
async function post(page, baseURL, path, form) {
  const token = await page.evaluate(() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']);
  const res = await page.request.post(`${baseURL}${path}`, { multipart: { csrf_token: token, ...form }, maxRedirects: 0 });
  assert.equal(res.status(), 303, `POST ${path}: ${res.status()} ${await res.text()}`);
  return res.headers().location;
}

// Companies in a segment (through the companies pages, as a researcher would), the first
// `approve` of them approved and the next `reject` rejected: the segment's counts then show.
async function addCompanies(page, baseURL, segmentId, names, approve, reject) {
  const ids = [];
  for (const name of names) {
    ids.push((await post(page, baseURL, '/companies', { name, segment_id: segmentId })).split('/').pop());
  }
  for (const id of ids.slice(0, approve)) await post(page, baseURL, `/companies/${id}/approve`, {});
  for (const id of ids.slice(approve, approve + reject)) {
    await post(page, baseURL, `/companies/${id}/reject`, { rejection_reason: 'Outside the target size band.' });
  }
  // Take the last flash message here, so it does not show on the next page.
  await page.request.get(`${baseURL}/segments`);
}

// The combobox's options once the request for what was typed has been answered.
async function waitForOptions(page, typed) {
  await page.waitForFunction(
    (t) => {
      const box = document.querySelector('[data-combobox-box]');
      const list = document.getElementById('offering-listbox');
      if (!box || !list || box.classList.contains('htmx-request') || list.hidden) return false;
      const marks = [...list.querySelectorAll('mark')].map((m) => m.textContent.toLowerCase());
      const create = list.querySelector('[data-offering-create]');
      return marks.some((m) => m === t.toLowerCase()) || (create && create.dataset.offeringCreate.toLowerCase() === t.toLowerCase());
    },
    typed,
    { timeout: 10_000 },
  );
}

async function activeOption(page) {
  return page.evaluate(() => {
    const input = document.getElementById('offering-combo-input');
    const id = input.getAttribute('aria-activedescendant');
    const el = id && document.getElementById(id);
    return el ? { id, text: el.querySelector('.option-name').textContent.trim(), selected: el.getAttribute('aria-selected') } : null;
  });
}

describe('segments and offerings', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let admin;
  const existing = `Cloud Migration ${RUN}`;
  const fresh = `Zero Trust Review ${RUN}`;
  const segmentName = `UK Fintech ${RUN}`;
  let segmentURL;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    admin = await newPage(browser);
    await signIn(admin.page, server.baseURL);
    // A few segments and offerings so the list has something to show.
    const { page } = admin;
    for (const name of [existing, `Data Platform ${RUN}`, `Managed Security ${RUN}`, `AI Readiness ${RUN}`]) {
      await post(page, server.baseURL, '/offerings', { name, description: `${name.replace(` ${RUN}`, '')} engagements` });
    }
    const dach = await post(page, server.baseURL, '/segments', {
      name: `DACH Manufacturing ${RUN}`,
      description: 'Mid-size industrial firms in Germany, Austria and Switzerland moving production data to the cloud.',
      new_offering: `Data Platform ${RUN}`,
    });
    await post(page, server.baseURL, '/segments', {
      name: `Nordic Retail ${RUN}`,
      description: 'Omnichannel retailers in Sweden, Norway, Denmark and Finland.',
      new_offering: `AI Readiness ${RUN}`,
    });
    await addCompanies(page, server.baseURL, dach.split('/').pop(), ['Kraus Maschinenbau', 'Alpen Präzision', 'Vogel Industrietechnik', 'Berger Antriebe', 'Hofer Automation'], 2, 1);
  });

  after(async () => {
    if (admin) await admin.context.close();
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('create a segment with an existing and a new offering through the auto-complete, by keyboard', async () => {
    const { page, problems } = admin;
    problems.reset();
    await page.goto(`${server.baseURL}/segments`);
    await page.getByRole('link', { name: 'New segment' }).first().click();
    await page.waitForURL(/\/segments\/new$/);
    await page.waitForFunction(() => typeof window.htmx === 'object');

    // The script swapped the checkbox list for the combobox.
    const combo = page.getByRole('combobox', { name: 'Offerings' });
    await combo.waitFor();
    assert.equal(await page.locator('[data-picker-fallback]').count(), 0, 'checkbox fallback removed');
    assert.equal(await page.locator('input[type=checkbox][name=offering_ids]').count(), 0);
    assert.equal(await combo.getAttribute('aria-expanded'), 'false');
    assert.equal(await combo.getAttribute('aria-controls'), 'offering-listbox');

    await page.getByLabel('Name', { exact: true }).fill(segmentName);
    await page.getByLabel('Description').fill('Challenger banks and payment firms in the UK, 50–500 staff.');

    // 1. an existing offering: type part of it, ArrowDown to it, Enter.
    await page.keyboard.press('Tab'); // description → the combobox
    assert.equal(await page.evaluate(() => document.activeElement.id), 'offering-combo-input');
    const part = `migration ${RUN}`;
    await page.keyboard.type(part);
    await waitForOptions(page, part);
    assert.equal(await combo.getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('#offering-listbox').isVisible(), true);
    await page.keyboard.press('ArrowDown');
    let active = await activeOption(page);
    assert.ok(active, 'ArrowDown makes an option active');
    assert.equal(active.text, existing);
    assert.equal(active.selected, 'true');
    await page.keyboard.press('Enter');
    await page.locator('#offering-chips li', { hasText: existing }).waitFor();
    assert.equal(await page.url().endsWith('/segments/new'), true, 'Enter did not submit the form');
    assert.equal(await combo.inputValue(), '');
    assert.equal(await combo.getAttribute('aria-expanded'), 'false');

    // Escape closes the list; Backspace on the empty input removes the last chip (then re-add it).
    await page.keyboard.type('zzz');
    await waitForOptions(page, 'zzz');
    await page.keyboard.press('Escape');
    assert.equal(await combo.getAttribute('aria-expanded'), 'false');
    await page.keyboard.press('Escape');
    assert.equal(await combo.inputValue(), '');
    await page.keyboard.press('Backspace');
    assert.equal(await page.locator('#offering-chips li').count(), 0, 'Backspace removed the chip');
    await page.keyboard.type(part);
    await waitForOptions(page, part);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('#offering-chips li', { hasText: existing }).waitFor();

    // Every offering of this run matches its tag; the chosen one is not offered again.
    await page.keyboard.type(RUN);
    await waitForOptions(page, RUN);
    const names = await page.locator('#offering-listbox [data-offering-name]').evaluateAll((os) => os.map((o) => o.dataset.offeringName));
    assert.deepEqual(names, [`AI Readiness ${RUN}`, `Data Platform ${RUN}`, `Managed Security ${RUN}`]);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    active = await activeOption(page);
    assert.equal(active.text, `Data Platform ${RUN}`);
    assertNoViolations(await axeCheck(page), '/segments/new with the auto-complete open');
    await screenshot(page, 'segment-form-autocomplete');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    // 2. a new offering: the last option offers to create what was typed.
    await page.keyboard.type(fresh);
    await waitForOptions(page, fresh);
    const createOption = page.getByRole('option', { name: `Create “${fresh}”` });
    assert.equal(await createOption.count(), 1);
    // ArrowUp wraps to the last option, which is "Create".
    await page.keyboard.press('ArrowUp');
    active = await activeOption(page);
    assert.match(active.text, new RegExp(`Create “${fresh}”`));
    await page.keyboard.press('Enter');
    await page.locator('#offering-chips li', { hasText: fresh }).waitFor();
    assert.equal(await page.locator('#offering-chips input[type=hidden][name=offering_ids]').count(), 2);
    // The live region told screen-reader users what happened.
    await page.waitForFunction(() => /created and added/.test(document.querySelector('[data-combobox-status]').textContent));

    // Save.
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create segment' }).click()]);
    segmentURL = page.url();
    assert.match(new URL(segmentURL).pathname, /^\/segments\/[0-9a-f-]{36}$/);
    await page.getByText(`Created the segment “${segmentName}”.`).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1, name: segmentName }).count(), 1);
    const chips = page.locator('#offering-chips li .chip-label');
    assert.deepEqual((await chips.allTextContents()).sort(), [existing, fresh].sort());
    assert.equal(await page.getByText('No one is assigned yet').count(), 1);
    assert.ok(await page.locator('.activity-item').count() >= 1, 'the timeline shows the creation');
    for (const s of ['pending', 'approved', 'rejected']) {
      const href = await page.locator(`a.stat-${s}`).getAttribute('href');
      assert.match(href, new RegExp(`^/companies\\?segment=[0-9a-f-]{36}&status=${s}$`));
    }
    assert.equal(await page.locator('[style]').count(), 0, 'no inline style attributes (CSP)');
    assertNoViolations(await axeCheck(page), 'the segment page');
    assertClean(problems, 'the segment form and page');
  });

  test('archive: hidden from the default list, back with the toggle, then unarchived', async () => {
    const { page, problems } = admin;
    problems.reset();
    await page.goto(segmentURL);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Archive' }).click()]);
    await page.getByText(/Segment archived/).waitFor();
    assert.equal(await page.locator('.segment-head .badge-archived').count(), 1);

    // Searched by this run's tag: the browser-test database keeps earlier runs' segments,
    // which would push this one off the first page.
    await page.goto(`${server.baseURL}/segments?q=${encodeURIComponent(RUN)}`);
    await page.waitForFunction(() => typeof window.htmx === 'object');
    assert.equal(await page.getByRole('link', { name: segmentName, exact: true }).count(), 0, 'archived is hidden');
    assert.equal(await page.getByRole('link', { name: `DACH Manufacturing ${RUN}` }).count(), 1);
    await page.getByLabel('Show archived').check();
    await page.waitForURL(/archived=1/);
    await page.getByRole('link', { name: segmentName, exact: true }).waitFor();
    const row = page.locator('tr', { has: page.getByRole('link', { name: segmentName, exact: true }) });
    assert.equal(await row.locator('.badge-archived').count(), 1);
    assertNoViolations(await axeCheck(page), '/segments?archived=1');

    // Unarchive; it takes companies again, and its page counts them by status.
    await page.goto(segmentURL);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Unarchive' }).click()]);
    await page.getByText(/Segment unarchived/).waitFor();
    await addCompanies(page, server.baseURL, segmentURL.split('/').pop(), ['Monzo Bank', 'Starling Bank', 'Zopa', 'ClearBank', 'Tide Platform', 'Allica Bank', 'OakNorth'], 3, 1);
    await page.goto(segmentURL);
    const counts = {};
    for (const s of ['pending', 'approved', 'rejected']) counts[s] = Number(await page.locator(`a.stat-${s} .stat-count`).textContent());
    assert.deepEqual(counts, { pending: 3, approved: 3, rejected: 1 });
    assertNoViolations(await axeCheck(page), 'the segment page with companies');
    await page.mouse.move(0, 0); // no hover left on the button clicked last
    await screenshot(page, 'segment-page');

    // Photograph the default list (this run's segments).
    await page.goto(`${server.baseURL}/segments?q=${RUN}`);
    await page.getByRole('link', { name: segmentName, exact: true }).waitFor();
    assertNoViolations(await axeCheck(page), '/segments');
    await screenshot(page, 'segments-list');
    assertClean(problems, 'archive and the list');
  });

  test('without JavaScript: the checkbox list and the new-offering field', async () => {
    const { page, context } = await newPage(browser, { javaScriptEnabled: false });
    try {
      await signIn(page, server.baseURL);
      await page.goto(`${server.baseURL}/segments/new`);
      assert.equal(await page.locator('[data-combobox]').isVisible(), false, 'the combobox stays hidden');
      const name = `Iberia Energy ${RUN}`;
      const typed = `Grid Analytics ${RUN}`;
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByRole('checkbox', { name: existing }).check();
      await page.getByLabel('New offering').fill(typed);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create segment' }).click()]);
      assert.match(new URL(page.url()).pathname, /^\/segments\/[0-9a-f-]{36}$/);
      assert.equal(await page.getByRole('heading', { level: 1, name }).count(), 1);
      assert.equal(await page.getByRole('checkbox', { name: existing }).isChecked(), true);
      assert.equal(await page.getByRole('checkbox', { name: typed }).isChecked(), true);
      assert.equal(await page.getByLabel('New offering').inputValue(), '');

      // A duplicate name comes back as a 422 form with the message beside the field.
      await page.goto(`${server.baseURL}/segments/new`);
      await page.getByLabel('Name', { exact: true }).fill(name.toUpperCase());
      const [res] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create segment' }).click()]);
      assert.equal(res.status(), 422);
      const field = page.getByLabel('Name', { exact: true });
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.equal(await field.inputValue(), name.toUpperCase());
      assert.match(await page.locator('#segment-name-error').textContent(), /already exists/);
    } finally {
      await context.close();
    }
  });

  // axe needs JavaScript in the page (it never finishes with it off), so the no-JavaScript
  // markup is checked in a page where only the enhancement script is withheld.
  test('the no-JavaScript picker is accessible', async () => {
    const { page, context, problems } = await newPage(browser);
    try {
      await context.route('**/assets/js/combobox.js*', (route) => route.fulfill({ contentType: 'text/javascript', body: '' }));
      await signIn(page, server.baseURL);
      await page.goto(`${server.baseURL}/segments/new`);
      await page.getByRole('checkbox', { name: existing }).waitFor();
      assert.equal(await page.locator('[data-combobox]').isVisible(), false);
      assertNoViolations(await axeCheck(page), '/segments/new, checkbox picker');
      await page.getByLabel('Name', { exact: true }).fill(`UK Fintech ${RUN}`.toLowerCase());
      const [res] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create segment' }).click()]);
      assert.equal(res.status(), 422);
      assertNoViolations(await axeCheck(page), 'the 422 form');
      await screenshot(page, 'segment-form-errors');
      problems.badResponses = problems.badResponses.filter((r) => !r.startsWith('422 POST'));
      problems.consoleErrors = problems.consoleErrors.filter((m) => !m.includes('status of 422'));
      assertClean(problems, 'the checkbox picker');
    } finally {
      await context.close();
    }
  });
});
