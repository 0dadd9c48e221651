// Helpers of the browser tests: the stack's environment (the variables
// scripts/test gives pytest too), Chromium through playwright-core,
// accounts made with civic-admin, one civic-dispatch run, the mails the
// development catcher stored, and the API calls a developer makes with
// the key pair the console showed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} not set (scripts/test sets it)`);
  return value;
}

export const BASE = () => env('CIVIC_BASE_URL').replace(/\/+$/, '');

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function newPassword() {
  return 'Tr1cky-' + randomBytes(9).toString('hex');
}

// ----------------------------------------------------------------- output

export function outputDir() {
  const dir = process.env.CIVIC_TEST_OUTPUT || join(env('CIVIC_VAR'), 'output');
  mkdirSync(join(dir, 'screenshots'), { recursive: true });
  return dir;
}

export async function screenshot(page, name) {
  const path = join(outputDir(), 'screenshots', name + '.png');
  await page.screenshot({ path, fullPage: true });
  return path;
}

// ---------------------------------------------------------------- browser

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // No network but loopback here: nothing in the background may try.
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// Records what a page reported: console errors (CSP violations are
// logged there too), uncaught exceptions, securitypolicyviolation events,
// failed requests and same-origin responses >= 400 other than the
// document's own.
export function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${page.url()})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  page.on('requestfailed', (r) => {
    problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== 'document')
      problems.push(`${r.status()} for ${r.request().resourceType()} ${r.url()}`);
  });
  return problems;
}

// Runs before any script of the page and is not subject to its CSP.
export const CSP_LISTENER = () => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
  });
};

// ---------------------------------------------------------------- console

export async function login(page, email, password) {
  await page.goto(BASE() + '/console/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/console/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
}

// The visible text of <main>, whitespace collapsed.
export async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ').trim();
}

export async function notice(page) {
  const n = page.locator('main p.notice[role=status]');
  return (await n.count()) ? (await n.innerText()).trim() : null;
}

// Elements of a form a person fills that have no <label> of their own.
export async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
    .filter((e) => !e.labels || e.labels.length === 0 ||
      ![...e.labels].some((l) => l.textContent.trim() !== ''))
    .map((e) => e.outerHTML.slice(0, 200)));
}

export async function noHorizontalScroll(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}

// ----------------------------------------------------------- civic-admin

export async function admin(...args) {
  const { stdout } = await run(env('CIVIC_ADMIN'), ['--json', ...args.map(String)], {
    env: { ...process.env, CIVIC_CONFIG: env('CIVIC_CONFIG') },
    timeout: 60000,
  });
  return JSON.parse(stdout);
}

// A verified account made with civic-admin: { email, password, id }.
export async function newAccount(plan) {
  const email = unique('browser') + '@example.org';
  const password = newPassword();
  const out = await admin('account', 'create', '--email', email, '--password', password);
  if (plan) await admin('plan', 'set', '--account', out.id, '--plan', plan);
  return { email, password, id: Number(out.id) };
}

// A level change of country's risk from 1 to 5 through `civic-admin risk
// import` (a baseline a second before, so whatever earlier runs imported
// for it is older); returns the alert civic-admin reports for the change.
export async function importLevelChange(country) {
  const dir = mkdtempSync(join(tmpdir(), 'civic-browser-'));
  const now = Math.floor(Date.now() / 1000);
  const at = (t) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const row = (level, t, summary) => ({
    country, level, score: level * 20 - 10, summary, factors: ['browser test'],
    source: 'tests/browser', assessed_at: at(t),
  });
  try {
    const base = join(dir, 'baseline.json'), change = join(dir, 'change.json');
    writeFileSync(base, JSON.stringify([row(1, now - 1, 'Baseline.')]));
    writeFileSync(change, JSON.stringify([row(5, now, 'Browser test: ' + unique('severe'))]));
    await admin('risk', 'import', base);
    const out = await admin('risk', 'import', change);
    if (!out.alerts || out.alerts.length !== 1)
      throw new Error(`risk import made no single alert: ${JSON.stringify(out)}`);
    return out.alerts[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ dispatcher

// The stack's config with [dispatch] linger_seconds = 0: the run ends as
// soon as nothing is due now (dispatchutil.quick_config's twin).
function quickConfig(dir) {
  const lines = readFileSync(env('CIVIC_CONFIG'), 'utf8').split('\n');
  const out = [`; a browser test's copy of ${env('CIVIC_CONFIG')}`];
  let inDispatch = false, done = false;
  for (const line of lines) {
    const section = line.match(/^\s*\[([^\]]+)\]/);
    if (section) {
      if (inDispatch && !done) { out.push('linger_seconds = 0'); done = true; }
      inDispatch = section[1].trim() === 'dispatch';
      out.push(line);
    } else if (inDispatch && /^\s*linger_seconds\s*=/.test(line)) {
      if (!done) out.push('linger_seconds = 0');
      done = true;
    } else {
      out.push(line);
    }
  }
  if (!done) {
    if (!inDispatch) out.push('[dispatch]');
    out.push('linger_seconds = 0');
  }
  const path = join(dir, 'civicsentinel.conf');
  writeFileSync(path, out.join('\n') + '\n', { mode: 0o600 });
  return path;
}

// One civic-dispatch run to its end (sends the queued mails); its stderr
// goes to VAR/log/dispatch-browser.log.
export async function dispatchOnce() {
  const dir = mkdtempSync(join(tmpdir(), 'civic-browser-'));
  const log = join(env('CIVIC_VAR'), 'log', 'dispatch-browser.log');
  try {
    const config = quickConfig(dir);
    let result;
    try {
      result = await run(env('CIVIC_DISPATCH'), [], {
        env: { ...process.env, CIVIC_CONFIG: config }, timeout: 120000,
      });
    } catch (e) {
      appendFileSync(log, `==== civic-dispatch failed: ${e.message}\n${e.stderr || ''}`);
      throw new Error(`civic-dispatch failed (exit ${e.code}): ${String(e.stderr).slice(-2000)}`);
    }
    appendFileSync(log, `==== civic-dispatch: exit 0\n${result.stderr}`);
    return result.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ mail

function splitMessage(raw) {
  const m = raw.match(/\r?\n\r?\n/);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1][1] += ' ' + line.trim();
    else {
      const i = line.indexOf(':');
      if (i > 0) headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  const get = (name) => headers.find(([k]) => k === name)?.[1];
  const all = (name) => headers.filter(([k]) => k === name).map(([, v]) => v);
  return { headers, get, all, body };
}

// Quoted-printable (RFC 2045 6.7) to bytes.
export function decodeQuotedPrintable(text) {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(soft.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part) {
  const cte = (part.get('content-transfer-encoding') || '7bit').toLowerCase();
  let bytes;
  if (cte === 'quoted-printable') bytes = decodeQuotedPrintable(part.body);
  else if (cte === 'base64') bytes = Buffer.from(part.body.replace(/\s+/g, ''), 'base64');
  else bytes = Buffer.from(part.body, 'latin1');
  return bytes.toString('utf8');
}

// The decoded text/<subtype> part of a (possibly nested multipart) message.
function textPart(part, subtype) {
  const type = (part.get('content-type') || 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const b = (part.get('content-type') || '').match(/boundary="?([^";]+)"?/i);
    if (!b) return null;
    const chunks = part.body.split('--' + b[1]);
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      const found = textPart(splitMessage(chunk.replace(/^\r?\n/, '')), subtype);
      if (found !== null) return found;
    }
    return null;
  }
  return type.startsWith('text/' + subtype) ? decodeBody(part) : null;
}

// The mails the catcher stored for envelope recipient `to`, oldest first
// (the catcher names its files so that they sort by arrival; a file is
// renamed to .eml once complete).
export function mailsTo(to) {
  const dir = env('CIVIC_MAIL_DIR');
  return readdirSync(dir).filter((n) => n.endsWith('.eml')).sort().map((name) => {
    const msg = splitMessage(readFileSync(join(dir, name), 'latin1'));
    return {
      name,
      envelopeTo: msg.all('x-civic-envelope-to'),
      subject: msg.get('subject'),
      text: textPart(msg, 'plain'),
      html: textPart(msg, 'html'),
    };
  }).filter((m) => m.envelopeTo.some((a) => a.toLowerCase() === to.toLowerCase()));
}

// ------------------------------------------------------------------- API

export async function exchange(apiKey, apiSecret) {
  const resp = await fetch(BASE() + '/v1/developer-token/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ api_key: apiKey, api_secret: apiSecret }),
  });
  const body = await resp.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* reported below */ }
  return { status: resp.status, json, body };
}

export async function apiGet(path, token) {
  const resp = await fetch(BASE() + path, {
    headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
  });
  return { status: resp.status, body: await resp.text() };
}
