// Shared by the browser tests: Debian's chromium driven headless by
// puppeteer-core, the page's console errors and Content-Security-Policy
// violations collected (any of them fails a test), checks that count their
// failures, and screenshots.
//
// Each test is "node tests/browser/<test>.js BASE_URL OUT_DIR [ARGS...]":
// BASE_URL is the service (http://127.0.0.1:PORT), OUT_DIR receives the
// screenshots.  It prints "ok: ..." per passing check, "FAIL: ..." per
// failing one, and exits 1 if any failed.

'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const UI_PATH = '/service/fileupload/ui/';

let failures = 0;

function ok(what) {
  console.log(`ok: ${what}`);
}

function fail(what) {
  failures++;
  console.log(`FAIL: ${what}`);
}

function check(what, cond) {
  if (cond) ok(what);
  else fail(what);
  return cond;
}

function checkEq(what, want, got) {
  return check(`${what} (expected ${JSON.stringify(want)}, got ${JSON.stringify(got)})`,
    want === got);
}

function args() {
  const [base, out, ...rest] = process.argv.slice(2);
  if (!base || !out) {
    console.error(`usage: node ${path.basename(process.argv[1])} BASE_URL OUT_DIR ...`);
    process.exit(2);
  }
  fs.mkdirSync(out, { recursive: true });
  return { base: base.replace(/\/$/, ''), out, rest };
}

// BLAKE2b-256 of a file, as the service computes it.
function b2sum(file) {
  return execFileSync('b2sum', ['-l', '256', file]).toString().split(' ')[0];
}

// A file of SIZE random bytes (nothing the service has seen).
function randomFile(dir, name, size) {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  const chunk = 1 << 20;
  for (let done = 0; done < size; done += chunk) {
    const n = Math.min(chunk, size - done);
    fs.writeSync(fd, require('node:crypto').randomBytes(n));
  }
  fs.closeSync(fd);
  return file;
}

async function launch() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root (the test runner) needs --no-sandbox; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    protocolTimeout: 600000,
  });
}

// A page that records console errors, page errors and CSP violations
// (in problems[]); the viewport a laptop's unless given.
async function newPage(browser, problems, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  page.setDefaultTimeout(120000);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // Before sending a file the page asks for its metadata: "not stored" is
  // a 404 (checkNoProblems lets its console line pass); any other 404 is
  // a problem.
  page.on('response', (res) => {
    if (res.status() !== 404) return;
    const lookup = res.request().method() === 'GET'
      && /\/service\/fileupload\/[0-9a-f]{64}$/.test(new URL(res.url()).pathname);
    if (!lookup) problems.push(`404 for ${res.request().method()} ${res.url()}`);
  });
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return page;
}

// Statuses the test provokes on purpose (a 401 before the token, a 403 for
// a duplicate, a rename refused) appear as console errors naming the failed
// resource: those are expected; anything else is not.
function checkNoProblems(problems, expected = []) {
  const allowed = [...expected, /status of 404 \(Not Found\)$/];
  const left = problems.filter((p) => !allowed.some((re) => re.test(p)));
  check(`no console errors or CSP violations${left.length ? `: ${left.join(' | ')}` : ''}`,
    left.length === 0);
}

async function openUi(page, base) {
  const res = await page.goto(base + UI_PATH, { waitUntil: 'networkidle0' });
  check(`GET ${UI_PATH} answers 200`, res.status() === 200);
  const csp = res.headers()['content-security-policy'] || '';
  check('the page is served with a strict CSP',
    csp.includes("default-src 'self'") && !csp.includes('unsafe-inline'));
  return res;
}

async function shot(page, out, name) {
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file });
  ok(`screenshot ${file}`);
}

// The queue entries' states while they are not done.
const ACTIVE = ['queued', 'hashing', 'uploading', 'token', 'waiting'];

// Waits until every queue entry has ended (not queued, hashing, uploading,
// waiting for a token or the network); returns [{name, state, value, hash,
// status}].
async function waitForQueue(page, count, timeout = 600000) {
  await page.waitForFunction((n, active) => {
    const items = [...document.querySelectorAll('#queue .item')];
    return items.length >= n && items.every((li) => !active.includes(li.dataset.state));
  }, { timeout, polling: 250 }, count, ACTIVE);
  return queueState(page);
}

function queueState(page) {
  return page.$$eval('#queue .item', (items) => items.map((li) => ({
    name: li.querySelector('.item-name').textContent,
    state: li.dataset.state,
    value: li.querySelector('progress').value,
    hash: li.dataset.hash || '',
    status: li.querySelector('.item-status').textContent,
    link: li.querySelector('.item-status a')?.getAttribute('href') || '',
  })));
}

// The table's rows: [{name, hash, size, type}].
function tableRows(page) {
  return page.$$eval('#file-rows tr', (rows) => rows.map((tr) => ({
    name: tr.querySelector('.file-name')?.textContent ?? '',
    hash: tr.dataset.hash,
    shownHash: tr.querySelector('.hash code').title,
    size: tr.querySelector('.size').textContent,
    type: tr.querySelector('.type').textContent,
  })));
}

// Limits the page's connection to BYTES_PER_SECOND up (and down), or
// lifts the limit (0); OFFLINE cuts it.
async function network(page, { upload = 0, offline = false } = {}) {
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline,
    latency: 0,
    downloadThroughput: upload > 0 ? upload : -1,
    uploadThroughput: upload > 0 ? upload : -1,
  });
  return cdp;
}

// Through the API directly (no browser): for setting up and checking.
async function api(base, method, pathname, body, headers = {}) {
  const res = await fetch(base + pathname, { method, body, headers });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, headers: res.headers };
}

// Deletes every stored file (the tests' private service): the page's
// empty state is then what an empty service shows.
async function clearService(base, headers = {}) {
  const list = await api(base, 'GET', '/service/fileupload', undefined, headers);
  for (const f of list.json ?? []) {
    await api(base, 'DELETE', `/service/fileupload/${f.file_hash}`, undefined, headers);
  }
}

function finish() {
  console.log(failures === 0 ? 'all checks passed' : `${failures} checks failed`);
  process.exit(failures === 0 ? 0 : 1);
}

// Runs MAIN(browser), always closing the browser; an exception fails.
async function run(main) {
  let browser;
  try {
    browser = await launch();
    await main(browser);
  } catch (err) {
    fail(`exception: ${err.stack || err}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  finish();
}

module.exports = {
  ACTIVE, UI_PATH, api, args, b2sum, check, clearService, checkEq, checkNoProblems, fail, network,
  newPage, ok, openUi, queueState, randomFile, run, shot, tableRows,
  waitForQueue,
};
