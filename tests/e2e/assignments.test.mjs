// Issue 11 in a real Chromium: assignments, the SDR hand-off and the home page of each role.
//
// With JavaScript on, from the keyboard alone: an Approver opens a segment's "Assign a
// researcher" dialog (Enter on it), types part of a name — an SDR is never offered — picks the
// researcher with Enter and assigns with Enter again; on the company page the same dialog hands
// an approved contact to an SDR. The researcher's home shows the segment and the approved
// company still waiting for contacts (not the one that has some). The SDR's home lists the
// contact; j and m mark the meeting scheduled. The contact's audit trail holds every step with
// who took it. Then the same with the app's scripts refused: the dialogs are plain forms with a
// <select>, the meeting a plain button. Every page is checked with axe and photographed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startServer } from './lib/server.mjs';
import { launchBrowser, newPage, screenshot } from './lib/browser.mjs';
import { assertAxeClean, signIn, sql, stopChecked } from './lib/app.mjs';

const RUN = `${Date.now().toString(36).slice(-5)}${process.pid}`;
const people = {
  approver: { email: `avery-${RUN}@assign-e2e.example`, name: `Avery Approver ${RUN}`, role: 'Approver' },
  researcher: { email: `rhea-${RUN}@assign-e2e.example`, name: `Rhea Research ${RUN}`, role: 'Researcher' },
  researcher2: { email: `ross-${RUN}@assign-e2e.example`, name: `Ross Research ${RUN}`, role: 'Researcher' },
  sdr: { email: `sam-${RUN}@assign-e2e.example`, name: `Sam Sdr ${RUN}`, role: 'SDR' },
  sdr2: { email: `sky-${RUN}@assign-e2e.example`, name: `Sky Sdr ${RUN}`, role: 'SDR' },
};
const segName = `Assign Segment ${RUN}`;
const withContacts = `Contactful Co ${RUN}`;
const awaiting = `Awaiting Co ${RUN}`;

// Users share the Admin's password (copied hash): they sign in like anyone else.
function arrange() {
  for (const p of Object.values(people)) {
    sql(
      `WITH u AS (INSERT INTO users (email, name, password_hash) SELECT :'email', :'name', password_hash
                  FROM users WHERE email = 'admin@example.com' RETURNING id)
       INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM u, roles r WHERE r.name = :'role'`,
      p,
    );
  }
  const seg = sql(`INSERT INTO segments (name, created_by) SELECT :'name', id FROM users WHERE email = 'admin@example.com' RETURNING id`, { name: segName });
  const company = (name) =>
    sql(
      `INSERT INTO companies (name, segment_id, status, status_changed_at, status_changed_by, created_by)
       SELECT :'name', :'seg', 'approved', now(), a.id, r.id FROM users a, users r
       WHERE a.email = :'approver' AND r.email = :'researcher' RETURNING id`,
      { name, seg, approver: people.approver.email, researcher: people.researcher.email },
    );
  const co = company(withContacts);
  const co2 = company(awaiting);
  // Two contacts, uploaded by the researcher and approved by the approver, each with its audit row.
  const contact = (first, last) =>
    sql(
      `WITH k AS (INSERT INTO contacts (first_name, last_name, email, company_id, created_by)
                  SELECT :'first', :'last', lower(:'first') || '.' || :'run' || '@contact-e2e.example', :'co', id
                  FROM users WHERE email = :'researcher' RETURNING id, created_by),
            c AS (INSERT INTO audit_logs (actor_id, action, entity_type, entity_id, details)
                  SELECT created_by, 'create', 'contact', id, '{}' FROM k)
       SELECT id FROM k`,
      { first, last, run: RUN, co, researcher: people.researcher.email },
    );
  const k1 = contact('Kim', `Keyboard${RUN}`);
  const k2 = contact('Noel', `Noscript${RUN}`);
  for (const k of [k1, k2]) {
    sql(
      `WITH a AS (SELECT id FROM users WHERE email = :'approver'),
            u AS (UPDATE contacts SET status = 'approved', status_changed_by = (SELECT id FROM a) WHERE id = :'k' RETURNING id)
       INSERT INTO audit_logs (actor_id, action, entity_type, entity_id, details)
       SELECT (SELECT id FROM a), 'approve', 'contact', id, '{"status": "approved"}' FROM u`,
      { k, approver: people.approver.email },
    );
  }
  return { seg, co, co2, k1, k2 };
}

// Who did what to a contact, oldest first: "create:Rhea…,approve:Avery…".
function trail(k) {
  return sql(
    `SELECT string_agg(a.action || ':' || u.name, ',' ORDER BY a.created_at, a.id) FROM audit_logs a
     JOIN users u ON u.id = a.actor_id WHERE a.entity_type = 'contact' AND a.entity_id = :'k'`,
    { k },
  );
}

// A signed-in page; scripts: false refuses the app's scripts, so it sees what a no-JS browser gets.
async function as(browser, baseURL, who, { scripts = true } = {}) {
  const view = await newPage(browser);
  if (!scripts) await view.context.route(/\/assets\/.*\.js(\?.*)?$/, (route) => route.abort());
  await view.page.setViewportSize({ width: 1280, height: 900 });
  await signIn(view.page, baseURL, who.email, ADMIN_PASSWORD);
  return view;
}

// Opens the assign dialog whose summary says `label` (inside `scope`) from the keyboard.
async function openDialog(page, scope, label) {
  const summary = scope.locator('summary', { hasText: label });
  await summary.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((l) => [...document.querySelectorAll('details[open] > summary')].some((s) => s.textContent.includes(l)), label);
}

async function pickerNames(page) {
  return page.evaluate(() => {
    const input = document.activeElement;
    const list = input && document.getElementById(input.getAttribute('aria-controls'));
    return list && !list.hidden ? [...list.querySelectorAll('[role=option]')].map((o) => o.textContent) : [];
  });
}

describe('issue 11: assignments, the SDR hand-off and the home pages', { timeout: 600_000 }, () => {
  let server;
  let browser;
  let ids;
  const views = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ids = arrange();
  });

  after(async () => {
    for (const v of views) await v.context.close();
    if (browser) await browser.close();
    if (server) await stopChecked(server);
  });

  test('an Approver assigns a segment to a researcher and a contact to an SDR, from the keyboard', async () => {
    const v = await as(browser, server.baseURL, people.approver);
    views.push(v);
    const { page, problems } = v;
    await page.goto(`${server.baseURL}/segments/${ids.seg}`);
    await openDialog(page, page.locator('.assign'), 'Assign a researcher');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'combobox', 'the dialog puts the focus in the picker');
    // only eligible people: an SDR is not offered, whatever is typed
    await page.keyboard.type('Sam Sdr');
    assert.deepEqual(await pickerNames(page), [`No one matches “Sam Sdr”.`]);
    await page.keyboard.press('Control+A');
    await page.keyboard.type(people.researcher.name.toLowerCase()); // earlier runs left other Rheas
    assert.deepEqual(await pickerNames(page), [`${people.researcher.name} (Researcher)`]);
    await screenshot(page, 'assign-segment-picker');
    await assertAxeClean(page, 'segment page, assign dialog open');
    await page.keyboard.press('Enter'); // chooses
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]); // assigns
    assert.equal(new URL(page.url()).pathname, `/segments/${ids.seg}`);
    await assert.doesNotReject(page.locator('.flash', { hasText: `${people.researcher.name} assigned to the segment` }).waitFor());
    await assert.doesNotReject(page.locator('.assign .person-name', { hasText: people.researcher.name }).waitFor());
    assert.match(await page.locator('main').textContent(), new RegExp(`${people.approver.name}\\s*assigned`));
    await screenshot(page, 'assign-segment-done');
    await assertAxeClean(page, 'segment page after assigning');

    // the contact, from the company page's contact list
    await page.goto(`${server.baseURL}/companies/${ids.co}`);
    const row = page.locator('.company-contact', { hasText: `Keyboard${RUN}` });
    await openDialog(page, row, 'Hand to an SDR');
    await page.keyboard.type(`sam sdr ${RUN}`);
    assert.deepEqual(await pickerNames(page), [`${people.sdr.name} (SDR)`]);
    await page.keyboard.press('Enter');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await assert.doesNotReject(page.locator('.flash', { hasText: `handed to ${people.sdr.name}` }).waitFor());
    const after = page.locator('.company-contact', { hasText: `Keyboard${RUN}` });
    assert.match(await after.textContent(), /Assigned to SDR/);
    assert.match(await after.textContent(), new RegExp(`SDR ${people.sdr.name}`));
    await screenshot(page, 'assign-contact-done');
    await assertAxeClean(page, 'company page after the hand-off');
    assert.equal(sql(`SELECT status FROM contacts WHERE id = :'k'`, { k: ids.k1 }), 'assigned_to_sdr');
    assert.deepEqual(problems.pageErrors, []);
    assert.deepEqual(problems.consoleErrors, []);
  });

  test("the researcher's home shows the segment and the company awaiting contacts", async () => {
    const v = await as(browser, server.baseURL, people.researcher);
    views.push(v);
    const { page } = v;
    await page.goto(`${server.baseURL}/`);
    const segments = page.getByRole('region', { name: 'My segments' });
    assert.match(await segments.textContent(), new RegExp(segName));
    const waiting = page.getByRole('region', { name: 'Companies awaiting contacts' });
    assert.match(await waiting.textContent(), new RegExp(awaiting));
    assert.doesNotMatch(await waiting.textContent(), new RegExp(withContacts), 'a company with contacts is not waiting');
    await screenshot(page, 'home-researcher');
    await assertAxeClean(page, 'researcher home');
    await page.goto(`${server.baseURL}/workbench`);
    assert.match(await page.locator('main').textContent(), new RegExp(awaiting));
    await assertAxeClean(page, '/workbench');
  });

  test('the SDR marks the meeting scheduled from their home; the trail names everyone', async () => {
    const v = await as(browser, server.baseURL, people.sdr);
    views.push(v);
    const { page } = v;
    await page.goto(`${server.baseURL}/`);
    const row = page.locator('tr[data-contact]', { hasText: `Keyboard${RUN}` });
    await assert.doesNotReject(row.waitFor());
    await screenshot(page, 'home-sdr');
    await assertAxeClean(page, 'SDR home');
    await page.locator('main').focus();
    await page.keyboard.press('j'); // the first contact
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-contact')), ids.k1);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('m')]);
    await assert.doesNotReject(page.locator('.flash', { hasText: `Meeting scheduled with Kim Keyboard${RUN}` }).waitFor());
    assert.equal(await page.locator('tr[data-contact]', { hasText: `Keyboard${RUN}` }).count(), 0);
    await screenshot(page, 'home-sdr-after');
    assert.equal(sql(`SELECT status FROM contacts WHERE id = :'k'`, { k: ids.k1 }), 'meeting_scheduled');
    assert.equal(
      trail(ids.k1),
      [`create:${people.researcher.name}`, `approve:${people.approver.name}`, `assign:${people.approver.name}`, `schedule_meeting:${people.sdr.name}`].join(','),
    );
  });

  test('the same flows with JavaScript off', async () => {
    const a = await as(browser, server.baseURL, people.approver, { scripts: false });
    views.push(a);
    let { page } = a;
    await page.goto(`${server.baseURL}/segments/${ids.seg}`);
    await openDialog(page, page.locator('.assign'), 'Assign a researcher');
    const select = page.getByLabel('Assign a researcher');
    const offered = await select.locator('option').allTextContents();
    assert.ok(offered.some((o) => o.startsWith(people.researcher2.name)));
    assert.ok(!offered.some((o) => o.includes(people.sdr.name)), 'no SDR is offered as a researcher');
    assert.ok(!offered.some((o) => o.includes(people.researcher.name)), 'who is on it already is not offered');
    await select.selectOption({ label: `${people.researcher2.name} (Researcher)` });
    await page.getByRole('button', { name: 'Assign', exact: true }).focus();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await assert.doesNotReject(page.locator('.assign .person-name', { hasText: people.researcher2.name }).waitFor());
    await screenshot(page, 'assign-segment-nojs');
    await assertAxeClean(page, 'segment page (no JS)');

    await page.goto(`${server.baseURL}/companies/${ids.co}`);
    const row = page.locator('.company-contact', { hasText: `Noscript${RUN}` });
    await openDialog(page, row, 'Hand to an SDR');
    await row.getByLabel('Hand to an SDR').selectOption({ label: `${people.sdr2.name} (SDR)` });
    await row.getByRole('button', { name: 'Assign', exact: true }).focus();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.match(await page.locator('.company-contact', { hasText: `Noscript${RUN}` }).textContent(), /Assigned to SDR/);
    await assertAxeClean(page, 'company page (no JS)');

    const s = await as(browser, server.baseURL, people.sdr2, { scripts: false });
    views.push(s);
    page = s.page;
    await page.goto(`${server.baseURL}/`);
    await assertAxeClean(page, 'SDR home (no JS)');
    await page.getByRole('button', { name: `Meeting scheduled with Noel Noscript${RUN}` }).focus();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await assert.doesNotReject(page.locator('.flash', { hasText: 'Meeting scheduled with Noel' }).waitFor());
    await screenshot(page, 'home-sdr-nojs');
    assert.equal(sql(`SELECT status FROM contacts WHERE id = :'k'`, { k: ids.k2 }), 'meeting_scheduled');
    assert.equal(
      trail(ids.k2),
      [`create:${people.researcher.name}`, `approve:${people.approver.name}`, `assign:${people.approver.name}`, `schedule_meeting:${people.sdr2.name}`].join(','),
    );
  });
});
