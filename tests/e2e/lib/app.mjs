// What browser tests do with the app itself: sign in, post a form with the page's session,
// read a CSV download, create a user straight in the database, check a page with axe.
//
//   await signIn(page, baseURL, email?, password?);
//   const location = await post(page, baseURL, '/companies', { name, segment_id });
//   const rows = parseCSV(text);
//   createUser({ name, email, password? }, 'Researcher');

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ROOT } from './server.mjs';
import { axeCheck, formatViolations, settle } from './browser.mjs';

export async function signIn(page, baseURL, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  await page.goto(`${baseURL}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, `sign-in as ${email} failed`);
}

// A form post through the browser's session (the CSRF token is the one htmx sends), multipart
// like every form of the app. Returns the redirect's Location (a 303 is expected).
export async function post(page, baseURL, urlPath, form) {
  const token = await page.evaluate(() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']);
  const res = await page.request.post(`${baseURL}${urlPath}`, { multipart: { csrf_token: token, ...form }, maxRedirects: 0 });
  assert.equal(res.status(), 303, `POST ${urlPath}: ${res.status()} ${await res.text()}`);
  return res.headers().location;
}

// A minimal RFC 4180 reader for checking downloads (a leading byte order mark is kept).
export function parseCSV(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

// The conninfo of the browser tests' database (var/e2e), through spanner-ctl.
export function e2eConninfo() {
  const bin = path.resolve(ROOT, process.env.SPANNER_CTL || 'build/spanner-ctl');
  const out = execFileSync(bin, ['--init-only'], {
    cwd: ROOT,
    env: { ...process.env, SPANNER_VAR_DIR: 'var/e2e', SPANNER_ADMIN_PASSWORD: ADMIN_PASSWORD, SPANNER_DEMO: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim()
    .split('\n');
  return out[out.length - 1];
}

// Runs SQL with psql variables (quoted by psql itself as :'name'); returns psql's output.
export function sql(script, vars = {}) {
  const args = [e2eConninfo(), '-v', 'ON_ERROR_STOP=1', '-q', '-At'];
  for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
  return execFileSync('psql', args, { input: `${script}\n`, stdio: ['pipe', 'pipe', 'pipe'] }).toString().trim();
}

export async function assertAxeClean(page, where) {
  await settle(page);
  const violations = await axeCheck(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where}:\n${formatViolations(violations)}`);
}

// Playwright cannot evaluate anything in a page with JavaScript disabled (axe included), so
// pages are checked for the no-JS case in a second, signed-in browser context whose
// requests for the app's scripts are refused: it sees exactly the DOM a no-JS browser gets.
export async function noScriptView(browser, baseURL, newPage) {
  const view = await newPage(browser);
  await view.context.route(/\/assets\/.*\.js(\?.*)?$/, (route) => route.abort());
  await signIn(view.page, baseURL);
  view.check = async (url, where) => {
    await view.page.goto(url);
    assert.equal(await view.page.evaluate(() => typeof window.htmx), 'undefined');
    await assertAxeClean(view.page, `${where} (no JS)`);
  };
  return view;
}

// Stops the server and fails when its log holds a sanitizer report or it had to be killed.
export async function stopChecked(server) {
  const exit = await server.stop();
  const sanitizer = server.log().match(/^.*(AddressSanitizer|LeakSanitizer|runtime error:).*$/m);
  assert.equal(sanitizer, null, `sanitizer report in ${server.logFile}: ${sanitizer && sanitizer[0]}`);
  assert.equal(exit.signal, null, `server was killed by ${exit.signal}`);
}
