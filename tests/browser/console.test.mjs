// Browser tests of the web console (/console/), in Debian's headless
// Chromium driven by playwright-core, against the stack scripts/test
// started (CIVIC_BASE_URL, CIVIC_CONFIG, CIVIC_VAR, CIVIC_ADMIN,
// CIVIC_DISPATCH, CIVIC_MAIL_DIR; screenshots in
// $CIVIC_TEST_OUTPUT/screenshots/). Forms are filled by their labels, as
// a person (or a screen reader) finds them; element ids, field names and
// button texts are the ones docs/contract (issue 5) fixes.
//
//   cd tests/browser && npm ci && node --test console.test.mjs
//
// with the environment scripts/test gives (CIVIC_TEST_BROWSER_ONLY=1
// scripts/test runs only these).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';

import {
  apiGet, BASE, CSP_LISTENER, DESKTOP, dispatchOnce, exchange, importLevelChange, launch, login,
  mailsTo,
  mainText, newAccount, newPassword, noHorizontalScroll, notice, outputDir, PHONE,
  screenshot, unique, unlabelled, watch,
} from './lib.mjs';

const ACTION_TIMEOUT = 8000; // ms
const NAVIGATION_TIMEOUT = 20000;
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

// One test in its own browser context. fn gets { page, context, step,
// problems }; step(name, fn) names the step a failure happened in. On a
// failure the page is saved as screenshots/failed-<slug>.png and the
// error says where the page was and what it showed.
function browserTest(name, options, fn) {
  test(name, async () => {
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    // A missing element fails in seconds, not in Playwright's 30.
    context.setDefaultTimeout(ACTION_TIMEOUT);
    context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT);
    const page = await context.newPage();
    await page.addInitScript(CSP_LISTENER);
    const problems = watch(page);
    let current = '(setup)';
    const step = async (label, body) => {
      current = label;
      return body();
    };
    try {
      await fn({ page, context, step, problems });
    } catch (e) {
      const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
      let where = '';
      try {
        await page.screenshot({ path: join(outputDir(), 'screenshots', `failed-${slug}.png`), fullPage: true });
        where = `\n  page: ${page.url()}\n  shows: ${(await mainText(page)).slice(0, 1500)}`;
      } catch { /* the page may be gone */ }
      if (problems.length) where += `\n  the page reported: ${problems.join('; ')}`;
      // node's reporter prints the stack, which holds the old message.
      const frames = String(e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
      e.message = `step "${current}": ${e.message}${where}`;
      e.stack = `${e.name}: ${e.message}\n${frames.join('\n')}`;
      throw e;
    } finally {
      await context.close();
    }
  });
}

const url = (path) => BASE() + path;

async function heading(page) {
  return (await page.locator('main h1').first().innerText()).trim();
}

// Waits for the page whose heading is text (after a form post to the
// same URL the old page is still there for a moment).
async function expectHeading(page, text) {
  try {
    await page.locator('main h1', { hasText: text }).first().waitFor();
  } catch {
    /* the assertion below says what the page shows instead */
  }
  assert.equal(await heading(page), text);
}

async function click(page, locator, urlPredicate) {
  await Promise.all([page.waitForURL(urlPredicate), locator.click()]);
}

// Creates an application through the apps page; returns its path.
async function createApp(page, name) {
  await page.goto(url('/console/apps'));
  await page.getByLabel('Application name').fill(name);
  await click(page, page.getByRole('button', { name: 'Create application' }),
    (u) => /^\/console\/apps\/\d+$/.test(u.pathname));
  const path = new URL(page.url()).pathname;
  assert.match(await notice(page) ?? '', /Application created/);
  return path;
}

// Issues a key on the app page with the given scopes; returns the pair
// shown once.
async function issueKey(page, appPath, name, scopes) {
  if (new URL(page.url()).pathname !== appPath) await page.goto(url(appPath));
  await page.getByLabel('Key name').fill(name);
  for (const scope of scopes) await page.getByLabel(scope, { exact: true }).check();
  await page.getByRole('button', { name: 'Issue key' }).click();
  await page.locator('#api_secret').waitFor({ state: 'attached' });
  // Until its deferred script is in: leaving earlier aborts that request.
  await page.waitForLoadState('load');
  const pair = {
    key: await page.locator('#api_key').inputValue(),
    secret: await page.locator('#api_secret').inputValue(),
  };
  assert.ok(pair.key && pair.secret, 'the key page shows no key pair');
  return pair;
}

// True once locator is visible, false if it stays hidden for
// ACTION_TIMEOUT. console.js, which shows the copy buttons, is deferred:
// it may still be on its way when the page's markup is in.
function shown(locator) {
  return locator.waitFor({ state: 'visible' }).then(() => true, () => false);
}

// The row of the keys table that shows public key `key`.
function keyRow(page, key) {
  return page.locator('main table tr', { hasText: key });
}

async function expectExchange(pair, status, why) {
  const r = await exchange(pair.key, pair.secret);
  assert.equal(r.status, status, `${why}: POST /v1/developer-token/ answered ${r.status}: ${r.body.slice(0, 300)}`);
  return r.json;
}

const VERIFY_LINK = /https?:\/\/[^\s"<>]+\/console\/verify\?token=[A-Za-z0-9_-]{43}/;
const CONFIRM_LINK = /https?:\/\/[^\s"<>]+\/v1\/alert-destinations\/confirm\/\?token=[A-Za-z0-9_-]{43}/;

// ------------------------------------------------------------- the flow

browserTest('a new user signs up, verifies, logs in and issues, rotates and revokes a key', {},
  async ({ page, step }) => {
    const email = unique('flow') + '@example.org';
    const password = newPassword();
    let appPath, first, second;

    await step('the sign-up page', async () => {
      const resp = await page.goto(url('/console/signup'));
      assert.equal(resp.status(), 200);
      await expectHeading(page, 'Create your account');
      await screenshot(page, 'signup');
    });
    await step('sign up with email, password and confirmation', async () => {
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByLabel('Password again').fill(password);
      await page.getByRole('button', { name: 'Sign up' }).click();
      await expectHeading(page, 'Check your email');
      assert.ok((await mainText(page)).includes(email), `the page names ${email}`);
      await screenshot(page, 'check-email');
    });
    let link;
    await step('the verification mail', async () => {
      await dispatchOnce();
      const mails = mailsTo(email);
      assert.ok(mails.length > 0, `no mail to ${email} in ${process.env.CIVIC_MAIL_DIR}`);
      const text = mails.at(-1).text ?? '';
      const m = text.match(VERIFY_LINK);
      assert.ok(m, `no /console/verify link in the mail's text:\n${text}`);
      link = m[0];
      assert.equal(new URL(link).origin, BASE(), 'the link points at the stack');
    });
    await step('open the link and verify', async () => {
      await page.goto(link);
      await expectHeading(page, 'Verify your email address');
      await screenshot(page, 'verify');
      await click(page, page.getByRole('button', { name: 'Verify my email address' }),
        (u) => u.pathname === '/console/login');
      assert.match(await notice(page) ?? '', /verified/);
      await screenshot(page, 'login');
    });
    await step('log in', async () => {
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await click(page, page.getByRole('button', { name: 'Log in' }),
        (u) => u.pathname === '/console/apps');
    });
    await step('create an application', async () => {
      appPath = await createApp(page, 'Flow app');
      assert.match(await heading(page), /Flow app/);
    });
    await step('issue a key with countries:read and profile:read', async () => {
      first = await issueKey(page, appPath, 'flow key', ['countries:read', 'profile:read']);
      assert.match(await mainText(page), /only/i, 'a warning that the secret is shown only now');
      for (const id of ['api_key', 'api_secret'])
        assert.ok(await shown(page.locator(`button[data-copy="${id}"]`)), `copy button for #${id}`);
      await screenshot(page, 'key-created');
    });
    await step('the pair works with the API', async () => {
      const token = (await expectExchange(first, 200, 'the new pair')).data.access;
      const r = await apiGet('/v1/supported-countries/', token);
      assert.equal(r.status, 200, `GET /v1/supported-countries/: ${r.body.slice(0, 300)}`);
    });
    await step('rotate the key', async () => {
      await page.goto(url(appPath));
      const row = keyRow(page, first.key);
      assert.equal(await row.count(), 1, `one row of the keys table shows ${first.key}`);
      await row.getByRole('button', { name: 'Rotate' }).click();
      await page.locator('#api_secret').waitFor({ state: 'attached' });
      second = {
        key: await page.locator('#api_key').inputValue(),
        secret: await page.locator('#api_secret').inputValue(),
      };
      assert.ok(second.key && second.secret, 'the rotate page shows the new pair');
      assert.notEqual(second.key, first.key);
      assert.match(await mainText(page), /The old key works until/);
      await screenshot(page, 'key-rotated');
      await expectExchange(second, 200, 'the rotated pair');
      await expectExchange(first, 200, 'the old pair while it retires');
    });
    await step('revoke the new key through its confirmation page', async () => {
      await page.goto(url(appPath));
      const row = keyRow(page, second.key);
      assert.equal(await row.count(), 1, `one row of the keys table shows ${second.key}`);
      await click(page, row.getByRole('link', { name: /^Revoke/ }),
        (u) => /^\/console\/keys\/\d+\/revoke$/.test(u.pathname));
      const text = await mainText(page);
      assert.ok(text.includes('flow key') && text.includes(second.key), 'the page names the key');
      await screenshot(page, 'key-revoke');
      await click(page, page.getByRole('button', { name: 'Revoke key' }),
        (u) => u.pathname === appPath);
      assert.match(await notice(page) ?? '', /revoked/);
      assert.match(await keyRow(page, second.key).innerText(), /revoked/i);
      await screenshot(page, 'app');
      await expectExchange(second, 401, 'the revoked pair');
    });
    await step('the apps page lists the application', async () => {
      await page.goto(url('/console/apps'));
      const a = page.locator('main table a', { hasText: 'Flow app' });
      assert.equal(await a.getAttribute('href'), appPath);
      await screenshot(page, 'apps');
    });
  });

// ------------------------------------------------------- without JavaScript

browserTest('without JavaScript a user logs in, creates an app and gets a key pair',
  { javaScriptEnabled: false }, async ({ page, step }) => {
    const account = await newAccount();
    await step('log in', async () => {
      await login(page, account.email, account.password);
      assert.equal(new URL(page.url()).pathname, '/console/apps');
    });
    let appPath;
    await step('create an application', async () => {
      appPath = await createApp(page, 'No-JS app');
    });
    await step('issue a key', async () => {
      const pair = await issueKey(page, appPath, 'no-js key', ['countries:read']);
      await expectExchange(pair, 200, 'the pair issued without JavaScript');
    });
  });

browserTest('copy buttons show with JavaScript (and copy), stay hidden without', {
  permissions: ['clipboard-read', 'clipboard-write'],
}, async ({ page, step }) => {
  const account = await newAccount();
  let appPath, pair;
  await step('with JavaScript', async () => {
    await login(page, account.email, account.password);
    appPath = await createApp(page, 'Copy app');
    pair = await issueKey(page, appPath, 'copy key', ['countries:read']);
    const buttons = page.locator('button[data-copy]');
    assert.equal(await buttons.count(), 2, 'a copy button for the key and one for the secret');
    for (const b of await buttons.all()) assert.ok(await shown(b), 'visible with JavaScript');
  });
  await step('the copy button copies the secret', async () => {
    const b = page.locator('button[data-copy="api_secret"]');
    await b.click();
    await page.waitForFunction(() => document.querySelector('button[data-copy="api_secret"]')
      .textContent.includes('Copied'), null, { timeout: 5000 });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), pair.secret);
  });
  await step('without JavaScript', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false });
    context.setDefaultTimeout(ACTION_TIMEOUT);
    try {
      const p = await context.newPage();
      await login(p, account.email, account.password);
      await issueKey(p, appPath, 'copy key 2', ['countries:read']);
      const buttons = p.locator('button[data-copy]');
      assert.equal(await buttons.count(), 2);
      for (const b of await buttons.all()) assert.ok(await b.isHidden(), 'hidden without JavaScript');
    } finally {
      await context.close();
    }
  });
});

// ------------------------------------------------------------- labels

browserTest('every input of the sign-up, login and app pages has a label', {},
  async ({ page, step }) => {
    const check = async (path, labels) => {
      if (path) await page.goto(url(path));
      assert.deepEqual(await unlabelled(page), [], `unlabelled inputs on ${page.url()}`);
      for (const l of labels) {
        assert.equal(await page.getByLabel(l, { exact: true }).count(), 1,
          `one input labelled "${l}" on ${page.url()}`);
      }
    };
    await step('sign-up page', () => check('/console/signup',
      ['Email address', 'Password', 'Password again']));
    await step('login page', () => check('/console/login', ['Email address', 'Password']));
    const account = await newAccount();
    await login(page, account.email, account.password);
    await step('apps page', () => check('/console/apps', ['Application name']));
    let appPath;
    await step('app page', async () => {
      appPath = await createApp(page, 'Label app');
      await check(null, ['Key name', 'Expires after (days)', 'countries:read', 'profile:read']);
    });
    await step('key page', async () => {
      await issueKey(page, appPath, 'label key', ['countries:read']);
      await check(null, []);
    });
  });

// ------------------------------------------------- console errors and CSP

const MAIN_PAGES = ['/console/apps', '/console/usage', '/console/destinations',
  '/console/subscriptions', '/console/dispatches', '/console/billing', '/console/profile'];

browserTest('the main pages load with no console errors or CSP violations', {},
  async ({ page, step, problems }) => {
    const visit = async (path, name) => {
      const resp = await page.goto(url(path));
      assert.equal(resp.status(), 200, `GET ${path}`);
      await page.waitForLoadState('load');
      const csp = await page.evaluate(() => window.__csp);
      assert.deepEqual(csp, [], `CSP violations on ${path}`);
      // The stylesheet and the script loaded under the page's CSP.
      assert.equal(await page.evaluate(() => getComputedStyle(document.body).marginTop), '0px',
        `console.css applies on ${path}`);
      assert.deepEqual(problems, [], `problems on ${path}`);
      if (name) await screenshot(page, name);
    };
    await step('signed out', async () => {
      await visit('/console/signup');
      await visit('/console/login');
    });
    const account = await newAccount();
    await login(page, account.email, account.password);
    const appPath = await createApp(page, 'Pages app');
    await issueKey(page, appPath, 'pages key', ['countries:read']);
    assert.deepEqual(problems, [], 'problems on the key page');
    // Every page is visited (and photographed) even when one fails.
    const failures = [];
    for (const path of [...MAIN_PAGES, appPath]) {
      const name = { '/console/usage': 'usage', '/console/billing': 'billing' }[path];
      problems.length = 0;
      await step(path, () => visit(path, name)).catch((e) => failures.push(`${path}: ${e.message}`));
    }
    assert.deepEqual(failures, [], 'pages with problems');
  });

// ------------------------------------------------------------ phone width

browserTest('at phone width (390x844) no page scrolls sideways', { viewport: PHONE },
  async ({ page, step }) => {
    const account = await newAccount();
    const fits = async (path, name) => {
      if (path) assert.equal((await page.goto(url(path))).status(), 200, `GET ${path}`);
      const { scrollWidth, innerWidth } = await noHorizontalScroll(page);
      if (name) await screenshot(page, name);
      assert.ok(scrollWidth <= innerWidth,
        `${page.url()} is ${scrollWidth}px wide in a ${innerWidth}px window`);
    };
    await step('login page', () => fits('/console/login', 'login-phone'));
    await login(page, account.email, account.password);
    let appPath;
    await step('apps page', async () => {
      appPath = await createApp(page, 'Phone app with a rather long name to wrap');
      await issueKey(page, appPath, 'phone key', ['countries:read', 'profile:read']);
      await fits(null, 'key-created-phone');
      await fits('/console/apps', 'apps-phone');
    });
    await step('app page', () => fits(appPath, 'app-phone'));
    const failures = [];
    for (const path of MAIN_PAGES.slice(1))
      await step(path, () => fits(path)).catch((e) => failures.push(`${path}: ${e.message}`));
    assert.deepEqual(failures, [], 'pages wider than a phone');
  });

// ------------------------------------------------------------------ profile

browserTest('the profile page saves name, phone number and country', {}, async ({ page, step }) => {
  const account = await newAccount();
  await login(page, account.email, account.password);
  const form = page.locator('main form[action="/console/profile"]');
  await step('the form', async () => {
    await page.goto(url('/console/profile'));
    // The email address, read-only: as text, or as a readonly input.
    const input = form.locator('input[readonly]');
    const asText = (await mainText(page)).includes(account.email);
    const asInput = (await input.count()) === 1 && (await input.inputValue()) === account.email &&
      !(await input.isEditable());
    assert.ok(asText || asInput, 'the profile page shows the email address, read-only');
    assert.deepEqual(await unlabelled(page), []);
    await form.locator('[name=first_name]').fill('Ada');
    await form.locator('[name=phone_number]').fill('+447700900123');
    await form.locator('select[name=country]').selectOption('GB');
  });
  await step('save', async () => {
    await click(page, form.locator('button[type=submit], button:not([type])').first(),
      (u) => u.pathname === '/console/profile' && u.searchParams.get('notice') === 'profile_saved');
    assert.match(await notice(page) ?? '', /Profile saved/);
    assert.equal(await form.locator('[name=first_name]').inputValue(), 'Ada');
    assert.equal(await form.locator('[name=phone_number]').inputValue(), '+447700900123');
    assert.equal(await form.locator('select[name=country]').inputValue(), 'GB');
    await screenshot(page, 'profile');
  });
});

// ------------------------------------------------------------------- alerts

browserTest('destinations, subscriptions and deliveries', {}, async ({ page, step }) => {
  const account = await newAccount();
  const address = unique('inbox') + '@example.org';
  await login(page, account.email, account.password);
  const create = page.locator('main form[action="/console/destinations"]');
  await step('create an email destination', async () => {
    await page.goto(url('/console/destinations'));
    await create.locator('[name=label]').fill('My inbox');
    await create.locator('select[name=channel]').selectOption('email');
    await create.getByLabel('Email address or webhook URL').fill(address);
    await click(page, create.locator('button[type=submit], button:not([type])').first(),
      (u) => u.pathname === '/console/destinations' && u.searchParams.get('notice') === 'destination_created');
    assert.match(await page.locator('main table tr', { hasText: address }).innerText(), /pending/i);
  });
  await step('confirm it from the mail', async () => {
    await dispatchOnce();
    const mails = mailsTo(address);
    assert.ok(mails.length > 0, `no confirmation mail to ${address}`);
    const m = (mails.at(-1).text ?? '').match(CONFIRM_LINK);
    assert.ok(m, `no confirmation link in:\n${mails.at(-1).text}`);
    const resp = await page.goto(m[0]);
    assert.equal(resp.status(), 200, 'the confirmation link');
    await page.goto(url('/console/destinations'));
    assert.match(await page.locator('main table tr', { hasText: address }).innerText(), /active/i);
  });
  await step('create a webhook destination: its signing secret is shown once', async () => {
    await create.locator('[name=label]').fill('My hook');
    await create.locator('select[name=channel]').selectOption('webhook');
    await create.getByLabel('Email address or webhook URL').fill(BASE() + '/hook-for-browser-test');
    await create.locator('button[type=submit], button:not([type])').first().click();
    await page.locator('#signing_secret').waitFor({ state: 'attached' });
    assert.match(await page.locator('#signing_secret').inputValue(), /^whsec_/);
    assert.ok(await shown(page.locator('button[data-copy="signing_secret"]')));
    await screenshot(page, 'destination-created');
    await page.goto(url('/console/destinations'));
    await screenshot(page, 'destinations');
  });
  await step('subscribe the email destination to risk:UY', async () => {
    await page.goto(url('/console/subscriptions'));
    const form = page.locator('main form[action="/console/subscriptions"]');
    assert.deepEqual(await unlabelled(page), []);
    const select = form.locator('select[name=destination_id]');
    const value = await select.locator('option', { hasText: 'My inbox' }).getAttribute('value');
    await select.selectOption(value);
    await form.locator('[name=stream]').fill('risk:UY');
    await form.locator('select[name=min_level]').selectOption('3');
    await click(page, form.locator('button[type=submit], button:not([type])').first(),
      (u) => u.pathname === '/console/subscriptions' && u.searchParams.get('notice') === 'subscription_created');
    assert.match(await page.locator('main table tr', { hasText: 'risk:UY' }).innerText(), /My inbox/);
    await screenshot(page, 'subscriptions');
  });
  await step('an alert for UY is delivered to the inbox', async () => {
    await importLevelChange('UY');
    const before = mailsTo(address).length;
    await dispatchOnce();
    assert.equal(mailsTo(address).length, before + 1, `one alert mail to ${address}`);
  });
  await step('the deliveries page shows it, and its filter form works', async () => {
    const resp = await page.goto(url('/console/dispatches'));
    assert.equal(resp.status(), 200);
    for (const name of ['status', 'destination_id', 'since'])
      assert.equal(await page.locator(`main form [name=${name}]`).count(), 1, `filter field ${name}`);
    assert.deepEqual(await unlabelled(page), []);
    const row = page.locator('main table tbody tr', { hasText: 'My inbox' });
    assert.equal(await row.count(), 1, 'one delivery row for My inbox');
    assert.match(await row.innerText(), /risk:UY/);
    assert.match(await row.innerText(), /delivered/);
    await screenshot(page, 'dispatches');
    const filter = page.locator('main form[action="/console/dispatches"]');
    await filter.locator('select[name=status]').selectOption('failed');
    await click(page, filter.locator('button[type=submit], button:not([type])').first(),
      (u) => u.pathname === '/console/dispatches' && u.searchParams.get('status') === 'failed');
    assert.equal(await page.locator('main table tbody tr', { hasText: 'My inbox' }).count(), 0,
      'no failed deliveries');
  });
});
