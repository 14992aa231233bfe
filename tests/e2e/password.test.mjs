// Forgot / reset password in a real Chromium against the real server and a real SMTP sink
// (Debian's python3-aiosmtpd writing a Maildir): a person asks for a link, the message
// arrives at the sink, the link is opened in the browser, a new password is set and the
// person lands signed in on the home page. The used link is refused; the Admin reads the
// message in /admin/outbox. Then the same with no relay configured: the message stays in
// the outbox. Every page is checked with axe and photographed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, startServer } from './lib/server.mjs';
import { axeCheck, formatViolations, launchBrowser, newPage, screenshot } from './lib/browser.mjs';

const RUN = `${Date.now().toString(36)}${process.pid}`;
const PERSON = { name: 'Robin Okafor', email: `robin.${RUN}@example.com`, password: 'Fresh-Passphrase-2024' };
const OFFLINE = { name: 'Mina Havel', email: `mina.${RUN}@example.com` };
const SINK_DIR = path.join(ROOT, 'var/e2e', `smtp-sink-${RUN}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function assertNoViolations(violations, where) {
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where}:\n${formatViolations(violations)}`);
}

function assertClean(problems, where, { allowStatus = [] } = {}) {
  const expected = allowStatus.map((s) => `status of ${s}`);
  const consoleErrors = problems.consoleErrors.filter((m) => !expected.some((e) => m.includes(e)));
  assert.deepEqual(consoleErrors, [], `console errors on ${where}`);
  assert.deepEqual(problems.pageErrors, [], `page errors on ${where}`);
  // Chromium fetches the favicon after "load" and abandons it when the page navigates on
  // at once (as these tests do): that is the browser moving on, not a failed request.
  const failed = problems.failedRequests.filter((r) => !/\/favicon\.svg\S*: net::ERR_ABORTED$/.test(r));
  assert.deepEqual(failed, [], `failed requests on ${where}`);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => s.end(() => resolve(true)));
    s.once('error', () => resolve(false));
  });
}

// The SMTP sink: Debian's python (not whatever python3 is first on PATH) with aiosmtpd's
// Mailbox handler, which writes each message as a file under <dir>/new.
async function startSink() {
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(SINK_DIR, sub), { recursive: true });
  const port = await freePort();
  const child = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', SINK_DIR], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 100; i++) {
    if (await canConnect(port)) return { port, stop: () => child.kill('SIGTERM'), stderr: () => stderr };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`SMTP sink did not start: ${stderr}`);
}

function decodeQuotedPrintable(text) {
  const bytes = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// Waits for the message to `to` in the sink and returns its headers and decoded body.
async function waitForMail(to, timeoutMs = 20_000) {
  const dir = path.join(SINK_DIR, 'new');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const f of fs.readdirSync(dir)) {
      const raw = fs.readFileSync(path.join(dir, f), 'utf8').replace(/\r\n/g, '\n');
      const split = raw.indexOf('\n\n');
      const head = raw.slice(0, split);
      if (!new RegExp(`^To: ${to.replace(/[.+]/g, '\\$&')}$`, 'm').test(head)) continue;
      const header = (name) => (head.match(new RegExp(`^${name}: (.*)$`, 'mi')) || [])[1];
      let body = raw.slice(split + 2);
      if (/quoted-printable/i.test(header('Content-Transfer-Encoding') || '')) body = decodeQuotedPrintable(body);
      return { header, body };
    }
    await sleep(100);
  }
  throw new Error(`no message for ${to} arrived in the SMTP sink`);
}

// A user straight into the e2e database (no password yet, like an invited account), through
// the conninfo the server binary prints for var/e2e.
function createUser({ name, email }, role) {
  const bin = path.resolve(ROOT, process.env.SPANNER_CTL || 'build/spanner-ctl');
  const out = execFileSync(bin, ['--init-only'], {
    cwd: ROOT,
    env: { ...process.env, SPANNER_VAR_DIR: 'var/e2e', SPANNER_ADMIN_PASSWORD: ADMIN_PASSWORD, SPANNER_DEMO: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString().trim().split('\n');
  const conninfo = out[out.length - 1];
  // psql variables are quoted by psql itself (:'name'), and only in a script, not in -c.
  execFileSync('psql', [conninfo, '-v', 'ON_ERROR_STOP=1', '-q', '-v', `email=${email}`, '-v', `name=${name}`, '-v', `role=${role}`], {
    input: `WITH u AS (INSERT INTO users (email, name) VALUES (:'email', :'name') RETURNING id)
            INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM u, roles r WHERE r.name = :'role';\n`,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

async function signIn(page, baseURL, email, password) {
  await page.goto(`${baseURL}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, `sign-in as ${email} failed`);
}

async function stopChecked(server) {
  const exit = await server.stop();
  const sanitizer = server.log().match(/^.*(AddressSanitizer|LeakSanitizer|runtime error:).*$/m);
  assert.equal(sanitizer, null, `sanitizer report in ${server.logFile}: ${sanitizer && sanitizer[0]}`);
  assert.equal(exit.signal, null, `server was killed by ${exit.signal}`);
}

describe('forgot and reset password', { timeout: 300_000 }, () => {
  let sink;
  let server;
  let browser;
  let link;

  before(async () => {
    sink = await startSink();
    server = await startServer({
      SPANNER_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      SPANNER_SMTP_FROM: 'Spanner <spanner@example.com>',
    });
    browser = await launchBrowser();
    createUser(PERSON, 'Researcher');
    createUser(OFFLINE, 'Researcher');
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await stopChecked(server);
    if (sink) sink.stop();
    fs.rmSync(SINK_DIR, { recursive: true, force: true });
  });

  test('forgot password: from the sign-in page to "check your e-mail"', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await page.goto(`${server.baseURL}/login`);
      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Forgot your password?' }).click()]);
      assert.equal(new URL(page.url()).pathname, '/password/forgot');
      assert.match(await page.title(), /Forgot your password\? · Spanner/);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Forgot your password?');
      const email = page.getByLabel('Email', { exact: true });
      assert.equal(await email.getAttribute('type'), 'email');
      assert.equal(await email.getAttribute('autocomplete'), 'username');
      assert.equal(await email.evaluate((el) => el === document.activeElement), true, 'e-mail field has focus');
      assert.equal(await page.locator('form[action="/password/forgot"] input[type="hidden"][name="csrf_token"]').count(), 1);
      assert.equal(await page.getByRole('link', { name: 'Back to sign in' }).getAttribute('href'), '/login');
      assert.equal(await page.locator('[style]').count(), 0, 'no inline style attributes (CSP)');
      assertNoViolations(await axeCheck(page), '/password/forgot');
      await screenshot(page, 'password-forgot');

      // Not an address: the error is announced and tied to the field.
      await email.fill('robin at example');
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send reset link' }).click()]);
      assert.equal(await page.getByRole('alert').isVisible(), true);
      assert.equal(await email.getAttribute('aria-invalid'), 'true');
      assert.equal(await email.getAttribute('aria-describedby'), 'forgot-error');
      assertNoViolations(await axeCheck(page), '/password/forgot with an error');

      await email.fill(PERSON.email);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send reset link' }).click()]);
      assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/password/forgot?sent=1');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Check your e-mail');
      assert.match(await page.locator('main').textContent(), /If an account exists for that address, we sent a link\. It is valid for one hour\./);
      assertNoViolations(await axeCheck(page), '/password/forgot?sent=1');
      await screenshot(page, 'password-forgot-sent');
      assertClean(problems, 'forgot password', { allowStatus: [422] });
    } finally {
      await context.close();
    }
  });

  test('the message reaches the relay with a working link', { timeout: 60_000 }, async () => {
    const mail = await waitForMail(PERSON.email);
    assert.equal(mail.header('Subject'), 'Reset your Spanner password');
    assert.equal(mail.header('From'), 'Spanner <spanner@example.com>');
    assert.match(mail.header('Content-Type'), /text\/plain; charset=utf-8/i);
    assert.match(mail.body, new RegExp(`Hello ${PERSON.name},`));
    const m = mail.body.match(/(http:\/\/127\.0\.0\.1:\d+\/password\/reset\?token=[0-9a-f]{64})\n/);
    assert.ok(m, `no reset link in:\n${mail.body}`);
    assert.ok(m[1].startsWith(`${server.baseURL}/password/reset?token=`), `link ${m[1]} points elsewhere`);
    link = m[1];
  });

  test('the link opens the reset form; a new password signs the person in', { timeout: 60_000 }, async () => {
    assert.ok(link, 'needs the link from the previous test');
    const { page, problems, context } = await newPage(browser);
    try {
      const res = await page.goto(link);
      assert.equal(res.status(), 200);
      assert.equal(res.headers()['cache-control'], 'no-store');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Choose a new password');
      assert.match(await page.locator('main').textContent(), new RegExp(PERSON.email.replace(/[.+]/g, '\\$&')));
      const pw = page.getByLabel('New password', { exact: true });
      const confirm = page.getByLabel('Confirm new password', { exact: true });
      assert.equal(await pw.getAttribute('autocomplete'), 'new-password');
      assert.equal(await confirm.getAttribute('autocomplete'), 'new-password');
      assert.equal(await pw.getAttribute('aria-describedby'), 'reset-password-rules');
      assert.match(await page.locator('#reset-password-rules').textContent(), /At least 10 characters/);
      assert.equal(await pw.evaluate((el) => el === document.activeElement), true, 'new password field has focus');
      assertNoViolations(await axeCheck(page), '/password/reset');
      await screenshot(page, 'password-reset');

      // The two fields disagree: the page says so next to the field, nothing changes.
      await pw.fill(PERSON.password);
      await confirm.fill('Something-Else-2024');
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Set password and sign in' }).click()]);
      assert.equal(await confirm.getAttribute('aria-invalid'), 'true');
      assert.equal(await confirm.getAttribute('aria-describedby'), 'reset-confirm-error');
      assert.match(await page.locator('#reset-confirm-error').textContent(), /don’t match/);
      assert.equal(await pw.inputValue(), '', 'passwords are never echoed');
      assertNoViolations(await axeCheck(page), '/password/reset with an error');
      await screenshot(page, 'password-reset-error');

      await pw.fill(PERSON.password);
      await confirm.fill(PERSON.password);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Set password and sign in' }).click()]);
      assert.equal(new URL(page.url()).pathname, '/');
      assert.match(await page.locator('#flash').textContent(), /Your password has been changed and you are signed in/);
      assert.match(await page.locator('header .app-user').textContent(), new RegExp(PERSON.name));
      assertNoViolations(await axeCheck(page), 'home after the reset');
      await screenshot(page, 'password-reset-done');

      // The link is spent.
      const again = await page.goto(link);
      assert.equal(again.status(), 410);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'This link has already been used');
      assert.equal(await page.getByRole('link', { name: 'Ask for a new link' }).getAttribute('href'), '/password/forgot');
      assertNoViolations(await axeCheck(page), 'a used link');
      await screenshot(page, 'password-reset-used');
      assertClean(problems, 'reset password', { allowStatus: [410, 422] });
    } finally {
      await context.close();
    }

    // The new password works from a fresh browser.
    const fresh = await newPage(browser);
    try {
      await signIn(fresh.page, server.baseURL, PERSON.email, PERSON.password);
    } finally {
      await fresh.context.close();
    }
  });

  test('the Admin reads sent mail in the outbox', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await signIn(page, server.baseURL, ADMIN_EMAIL, ADMIN_PASSWORD);
      const res = await page.goto(`${server.baseURL}/admin/outbox`);
      assert.equal(res.status(), 200);
      assert.equal(await page.locator('header nav a[href="/admin/outbox"][aria-current="page"]').count(), 1);
      const row = page.getByRole('row').filter({ hasText: PERSON.email });
      assert.equal(await row.count(), 1);
      assert.match(await row.textContent(), /Reset your Spanner password/);
      assert.match(await row.textContent(), /Sent/);
      assert.equal(await page.getByText('No mail relay is configured').count(), 0);
      assertNoViolations(await axeCheck(page), '/admin/outbox');
      await screenshot(page, 'outbox');

      await Promise.all([page.waitForNavigation(), row.getByRole('link').click()]);
      assert.match(new URL(page.url()).pathname, /^\/admin\/outbox\/[0-9a-f-]{36}$/);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Reset your Spanner password');
      assert.match(await page.locator('pre.mail-body').textContent(), /\/password\/reset\?token=[0-9a-f]{64}/);
      assertNoViolations(await axeCheck(page), '/admin/outbox/{id}');
      await screenshot(page, 'outbox-message');
      assertClean(problems, 'outbox');
    } finally {
      await context.close();
    }
  });

  test('with no relay the message waits in the outbox for the Admin', { timeout: 120_000 }, async () => {
    await stopChecked(server);
    server = await startServer(); // no SPANNER_SMTP_URL: outbox mode
    // JavaScript off: the plain form works the same.
    const nojs = await newPage(browser, { javaScriptEnabled: false });
    try {
      await nojs.page.goto(`${server.baseURL}/password/forgot`);
      await nojs.page.getByLabel('Email', { exact: true }).fill(OFFLINE.email);
      await Promise.all([nojs.page.waitForNavigation(), nojs.page.getByRole('button', { name: 'Send reset link' }).click()]);
      assert.equal(await nojs.page.getByRole('heading', { level: 1 }).textContent(), 'Check your e-mail');
      assertClean(nojs.problems, 'forgot password without JavaScript');
    } finally {
      await nojs.context.close();
    }

    const { page, problems, context } = await newPage(browser);
    try {
      await signIn(page, server.baseURL, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.goto(`${server.baseURL}/admin/outbox`);
      assert.equal(await page.getByText('No mail relay is configured').count(), 1);
      const row = page.getByRole('row').filter({ hasText: OFFLINE.email });
      assert.equal(await row.count(), 1);
      assert.match(await row.textContent(), /Not sent/);
      assertNoViolations(await axeCheck(page), '/admin/outbox without a relay');
      await screenshot(page, 'outbox-no-relay');

      await Promise.all([page.waitForNavigation(), row.getByRole('link').click()]);
      assert.match(await page.locator('main').textContent(), /not sent: no mail relay is configured/);
      const body = await page.locator('pre.mail-body').textContent();
      const m = body.match(/\/password\/reset\?token=[0-9a-f]{64}/);
      assert.ok(m, 'the link is readable in the outbox');
      assertNoViolations(await axeCheck(page), '/admin/outbox/{id} without a relay');
      await screenshot(page, 'outbox-message-no-relay');
      assertClean(problems, 'outbox without a relay');
    } finally {
      await context.close();
    }
  });
});
