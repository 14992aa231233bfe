// Sign-in page, layout and error pages in a real Chromium against the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startServer } from './lib/server.mjs';
import { axeCheck, formatViolations, launchBrowser, newPage, screenshot } from './lib/browser.mjs';

function assertNoViolations(violations, where) {
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where}:\n${formatViolations(violations)}`);
}

function assertClean(problems, where, { allowStatus = [] } = {}) {
  // Chromium logs "Failed to load resource: ... status of 404" for a document we asked to be 404.
  const expected = allowStatus.map((s) => `status of ${s}`);
  const consoleErrors = problems.consoleErrors.filter((m) => !expected.some((e) => m.includes(e)));
  assert.deepEqual(consoleErrors, [], `console errors on ${where}`);
  assert.deepEqual(problems.pageErrors, [], `page errors on ${where}`);
  assert.deepEqual(problems.failedRequests, [], `failed requests on ${where}`);
}

function assertSecurityHeaders(headers, where) {
  const csp = headers['content-security-policy'];
  assert.ok(csp, `Content-Security-Policy missing on ${where}`);
  assert.match(csp, /frame-ancestors 'none'/, `CSP on ${where}: ${csp}`);
  assert.match(csp, /script-src 'self'/, `CSP on ${where}: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `CSP on ${where}: ${csp}`);
  assert.equal(headers['x-content-type-options'], 'nosniff', `X-Content-Type-Options on ${where}`);
}

describe('sign-in page and layout', { timeout: 300_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (!server) return;
    const exit = await server.stop();
    // The ASan build reports memory errors and leaks on its way out.
    const sanitizer = server.log().match(/^.*(AddressSanitizer|LeakSanitizer|runtime error:).*$/m);
    assert.equal(sanitizer, null, `sanitizer report in ${server.logFile}: ${sanitizer && sanitizer[0]}`);
    assert.equal(exit.signal, null, `server was killed by ${exit.signal}`);
  });

  test('GET /login renders an accessible sign-in form', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      const res = await page.goto(`${server.baseURL}/login`, { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      assertSecurityHeaders(await res.allHeaders(), '/login');
      assert.match(res.headers()['content-type'], /^text\/html; ?charset=utf-8/i);

      assert.match(await page.title(), /Spanner/);
      assert.match(await page.title(), /sign in/i);
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');

      // Layout landmarks and regions.
      await assert.doesNotReject(page.locator('header a[href="/"]').first().waitFor());
      assert.equal(await page.locator('main#main').count(), 1);
      assert.equal(await page.locator('a.skip-link[href="#main"]').count(), 1);
      assert.equal(await page.locator('[role="status"][aria-live]').count(), 1);
      assert.equal(await page.locator('aside#panel').count(), 1);
      assert.equal(await page.locator('div#popup').count(), 1);
      assert.equal(await page.locator('#panel').isVisible(), false, 'empty panel is hidden');
      assert.equal(await page.locator('#popup').isVisible(), false, 'empty popup is hidden');
      assert.equal(await page.locator('header nav').count(), 0, 'no navigation when signed out');
      assert.equal(await page.locator('form[action="/logout"]').count(), 0, 'no sign-out when signed out');
      assert.equal(await page.locator('link[rel="stylesheet"][href^="/assets/css/spanner.css"]').count(), 1);
      assert.equal(await page.locator('[style]').count(), 0, 'no inline style attributes (CSP)');

      // The form.
      const form = page.locator('form[action="/login"]');
      assert.equal(await form.count(), 1);
      assert.equal((await form.getAttribute('method')).toLowerCase(), 'post');
      const email = page.getByLabel('Email', { exact: true });
      assert.equal(await email.getAttribute('name'), 'email');
      assert.equal(await email.getAttribute('type'), 'email');
      assert.equal(await email.getAttribute('autocomplete'), 'username');
      assert.equal(await email.evaluate((el) => el.hasAttribute('autofocus')), true);
      assert.equal(await email.evaluate((el) => el === document.activeElement), true, 'email field has focus');
      const password = page.getByLabel('Password', { exact: true });
      assert.equal(await password.getAttribute('name'), 'password');
      assert.equal(await password.getAttribute('type'), 'password');
      assert.equal(await password.getAttribute('autocomplete'), 'current-password');
      assert.equal(await form.locator('input[type="hidden"][name="csrf_token"]').count(), 1);
      assert.equal(await form.locator('input[type="hidden"][name="next"]').count(), 1);
      assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 1);
      const forgot = page.getByRole('link', { name: 'Forgot your password?' });
      assert.equal(await forgot.getAttribute('href'), '/password/forgot');
      assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);

      // htmx is loaded, configured for the CSP, and injected no <style>.
      await page.waitForFunction(() => typeof window.htmx === 'object', null, { timeout: 5000 });
      const cfg = await page.evaluate(() => ({
        indicatorStyles: window.htmx.config.includeIndicatorStyles,
        allowEval: window.htmx.config.allowEval,
        styles: document.querySelectorAll('style').length,
      }));
      assert.deepEqual(cfg, { indicatorStyles: false, allowEval: false, styles: 0 });

      // A visible keyboard focus ring on the button.
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        const s = getComputedStyle(el);
        return { tag: el.tagName, text: el.textContent.trim(), outline: s.outlineStyle, width: s.outlineWidth };
      });
      assert.equal(focused.tag, 'BUTTON');
      assert.equal(focused.text, 'Sign in');
      assert.notEqual(focused.outline, 'none', 'focused button shows an outline');
      await page.locator('#login-email').focus();

      assertNoViolations(await axeCheck(page), '/login');
      await screenshot(page, 'login');
      assertClean(problems, '/login');
    } finally {
      await context.close();
    }
  });

  test('a missing page answers a styled 404', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      const res = await page.goto(`${server.baseURL}/no-such-page-e2e`, { waitUntil: 'load' });
      assert.equal(res.status(), 404);
      assertSecurityHeaders(await res.allHeaders(), '404');
      const h1 = page.getByRole('heading', { level: 1 });
      assert.equal(await h1.count(), 1);
      assert.ok((await h1.textContent()).trim().length > 0);
      assert.match(await page.locator('main').textContent(), /404/);
      assert.match(await page.locator('main').textContent(), /no-such-page-e2e/);
      assert.ok((await page.locator('main a[href="/"]').count()) >= 1, 'links home');
      const css = await page.evaluate(() => getComputedStyle(document.querySelector('.app-header')).position);
      assert.equal(css, 'sticky', 'stylesheet applied');
      assert.equal(await page.locator('[style]').count(), 0, 'no inline style attributes (CSP)');

      assertNoViolations(await axeCheck(page), '404 page');
      await screenshot(page, 'error-404');
      assertClean(problems, '404 page', { allowStatus: [404] });
    } finally {
      await context.close();
    }
  });

  test('a failed sign-in shows the error tied to the form', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await page.goto(`${server.baseURL}/login`);
      await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
      await page.getByLabel('Password', { exact: true }).fill('not-the-password');
      const [res] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
      assert.ok(res.status() < 500, `failed sign-in answers ${res.status()}`);
      const alert = page.getByRole('alert');
      assert.equal(await alert.isVisible(), true, 'error is shown');
      assert.ok((await alert.textContent()).trim().length > 0);
      const alertId = await alert.getAttribute('id');
      const email = page.getByLabel('Email', { exact: true });
      assert.equal(await email.inputValue(), ADMIN_EMAIL, 'e-mail is kept');
      assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'password is never echoed');
      assert.equal(await email.getAttribute('aria-invalid'), 'true');
      assert.ok(alertId && (await email.getAttribute('aria-describedby')).split(/\s+/).includes(alertId), 'error described by the alert');
      assertNoViolations(await axeCheck(page), '/login with an error');
      await screenshot(page, 'login-error');
      assertClean(problems, 'failed sign-in', { allowStatus: [400, 401, 403, 422, 429] });
    } finally {
      await context.close();
    }
  });

  test('the sign-in form works with JavaScript off', { timeout: 60_000 }, async () => {
    // axe needs JavaScript in the page, so this test checks function only; the same
    // markup is checked for accessibility by the tests above.
    const { page, problems, context } = await newPage(browser, { javaScriptEnabled: false });
    try {
      const res = await page.goto(`${server.baseURL}/login`);
      assert.equal(res.status(), 200);
      const email = page.getByLabel('Email', { exact: true });
      const password = page.getByLabel('Password', { exact: true });
      const submit = page.getByRole('button', { name: 'Sign in' });
      assert.equal(await email.isVisible(), true);
      assert.equal(await password.isVisible(), true);
      assert.equal(await submit.isVisible(), true);

      // A wrong password: the page comes back with the error, the e-mail kept.
      await email.fill(ADMIN_EMAIL);
      await password.fill('not-the-password');
      const [failed] = await Promise.all([page.waitForNavigation(), submit.click()]);
      assert.ok(failed.status() < 500, `failed sign-in answers ${failed.status()}`);
      assert.equal(await page.getByRole('alert').isVisible(), true, 'error is shown');
      assert.equal(await email.inputValue(), ADMIN_EMAIL);

      // The right password signs in and shows the signed-in layout.
      await password.fill(ADMIN_PASSWORD);
      await Promise.all([page.waitForNavigation(), submit.click()]);
      assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, `still on ${page.url()}`);
      const signOut = page.locator('header form[action="/logout"]');
      assert.equal(await signOut.count(), 1, 'sign-out form in the header');
      assert.equal(await signOut.locator('input[type="hidden"][name="csrf_token"]').count(), 1);
      assert.equal(await page.locator('header nav').count(), 1, 'navigation when signed in');
      const hx = await page.locator('body').getAttribute('hx-headers');
      assert.ok(hx && JSON.parse(hx)['X-CSRF-Token'], 'body carries the CSRF header for htmx');
      await screenshot(page, 'home-nojs');

      // Sign out again.
      await Promise.all([page.waitForNavigation(), signOut.getByRole('button').click()]);
      assert.equal(await page.locator('header form[action="/logout"]').count(), 0, 'signed out');
      assertClean(problems, 'JS-off sign-in', { allowStatus: [400, 401, 403, 422, 429] });
    } finally {
      await context.close();
    }
  });

  test('a hostile next after sign-in keeps Chromium on this site', { timeout: 60_000 }, async () => {
    // The security probe's request: a tab in next made "/\t/evil.invalid" — "//evil.invalid" to a browser.
    const { page, problems, context } = await newPage(browser);
    const offsite = [];
    page.on('request', (req) => {
      if (new URL(req.url()).origin !== server.baseURL) offsite.push(req.url());
    });
    try {
      await page.goto(`${server.baseURL}/login?next=/%09/evil.invalid/phish`);
      await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
      assert.equal(new URL(page.url()).origin, server.baseURL, `left for ${page.url()}`);
      assert.deepEqual(offsite, [], 'no request left this site');
      assert.equal(await page.locator('header form[action="/logout"]').count(), 1, 'signed in');
      // A next on this site is honoured.
      await page.locator('header form[action="/logout"]').getByRole('button').click();
      await page.waitForURL(/\/login/);
      await page.goto(`${server.baseURL}/login?next=${encodeURIComponent('/segments?q=x')}`);
      await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
      assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/segments?q=x');
      await page.locator('header form[action="/logout"]').getByRole('button').click();
      await page.waitForURL(/\/login/);
      assertClean(problems, 'hostile next');
    } finally {
      await context.close();
    }
  });

  test('popup and panel regions open over the page and close with Escape', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await page.goto(`${server.baseURL}/login`);
      await page.waitForFunction(() => typeof window.htmx === 'object', null, { timeout: 5000 });
      // What an htmx swap of a quick-view fragment into #popup does.
      const open = (id, html) =>
        page.evaluate(([id, html]) => {
          const el = document.getElementById(id);
          el.innerHTML = html;
          el.dispatchEvent(new CustomEvent('htmx:afterSwap', { bubbles: true, detail: { target: el } }));
        }, [id, html]);
      await page.locator('#login-password').focus();
      await open('popup', '<div role="dialog" aria-labelledby="qv"><div class="popup-head"><h2 id="qv">Quick view</h2></div><div class="popup-body"><p>Body</p></div></div>');
      assert.equal(await page.locator('#popup').isVisible(), true, 'popup shown when it has content');
      assert.equal(await page.locator('#popup').evaluate((el) => getComputedStyle(el).position), 'fixed');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'qv', 'focus moves into the popup');
      await page.keyboard.press('Escape');
      assert.equal(await page.locator('#popup').isVisible(), false, 'Escape closes the popup');
      assert.equal(await page.locator('#popup').evaluate((el) => el.childElementCount), 0);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'login-password', 'focus returns');

      await open('panel', '<div class="panel-head"><h2>Panel</h2><button type="button" class="btn btn-ghost btn-sm" data-close aria-label="Close">×</button></div><div class="panel-body"><p>Fields</p></div>');
      await page.locator('#panel').evaluate((el) => Promise.all(el.getAnimations().map((an) => an.finished)));
      const box = await page.locator('#panel').boundingBox();
      const viewport = page.viewportSize();
      assert.ok(box && Math.round(box.x + box.width) === viewport.width && box.height === viewport.height, `panel is a full-height right-hand drawer: ${JSON.stringify(box)}`);
      await page.getByRole('button', { name: 'Close' }).click();
      assert.equal(await page.locator('#panel').isVisible(), false, 'the close button empties the panel');
      assertClean(problems, 'popup and panel');
    } finally {
      await context.close();
    }
  });

  test('the signed-in layout is accessible', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      await page.goto(`${server.baseURL}/login`);
      await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.waitForFunction(() => typeof window.htmx === 'object', null, { timeout: 5000 });
      const header = page.locator('header');
      assert.equal(await header.locator('nav a').count() > 0, true, 'navigation links');
      assert.ok((await header.locator('nav a[aria-current="page"]').count()) <= 1, 'at most one current link');
      assert.equal(await header.getByRole('button', { name: 'Sign out' }).isVisible(), true);
      // The page body belongs to other features; this checks the layout around it.
      assertNoViolations(await axeCheck(page, { exclude: [['#main']] }), 'signed-in layout');
      await screenshot(page, 'home');
      assertClean(problems, 'signed-in layout', { allowStatus: [404] });
    } finally {
      await context.close();
    }
  });
});
