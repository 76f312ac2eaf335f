// Share links and native downloads on a service with a read and a write
// token.  "Link" with a lifetime chosen puts a signed URL in a field and
// on the clipboard; opened in a fresh incognito context (no token) it
// gives the stored bytes; an expired one gives 410, a tampered one 403.
// Download, with the token stored, is the browser's own download (into a
// directory set through CDP): the page never fetches the file's bytes.
// An upload with only the read token waits for a token as a state of its
// own.  Screenshots: share, token-wait.
//
//	node share.js BASE_URL OUT_DIR SCRATCH_DIR READ_TOKEN WRITE_TOKEN

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const [scratch, readToken, writeToken] = rest;
const auth = { Authorization: `Bearer ${writeToken}` };

async function store(file, name) {
  const form = new FormData();
  form.append('upfile', new Blob([fs.readFileSync(file)]), name);
  const res = await t.api(base, 'POST', '/service/fileupload', form, auth);
  if (res.status !== 201) throw new Error(`upload ${name}: ${res.status}`);
  return res.json.file_hash;
}

async function giveToken(page, value) {
  await page.waitForSelector('#token-dialog[open]');
  await page.type('#token-input', value);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.querySelector('#token-dialog').open);
}

// SHARE_URL fetched from a page of a fresh incognito context (no token,
// no session): { status, body (latin1), json }.
async function openFresh(browser, url) {
  const ctx = await browser.createBrowserContext();
  try {
    const page = await ctx.newPage();
    // A page of the service's origin that asks for nothing.
    await page.goto(`${base}/service/fileupload/ui/icon.svg`);
    return await page.evaluate(async (u) => {
      const res = await fetch(u);
      const bytes = new Uint8Array(await res.arrayBuffer());
      let body = '';
      for (const b of bytes) body += String.fromCharCode(b);
      return { status: res.status, body, type: res.headers.get('Content-Type') };
    }, url);
  } finally {
    await ctx.close();
  }
}

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  const downloads = path.join(scratch, 'downloads');
  fs.mkdirSync(downloads, { recursive: true });
  await t.clearService(base, auth);
  const small = path.join(scratch, 'shared.txt');
  fs.writeFileSync(small, `shared ${Date.now()} ${Math.random()}\n`);
  const smallHash = await store(small, 'shared.txt');
  const large = t.randomFile(scratch, 'native.bin', 12 << 20);
  const largeHash = await store(large, 'native.bin');

  const ctx = browser.defaultBrowserContext();
  await ctx.overridePermissions(base, ['clipboard-read', 'clipboard-write',
    'clipboard-sanitized-write']);
  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  await giveToken(page, readToken);
  await page.waitForSelector(`#file-rows tr[data-hash="${smallHash}"]`);

  // ------------------------------------------------------- share link
  const asked = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/links')) asked.push(req.postData() ?? '');
  });
  await page.click(`#file-rows tr[data-hash="${smallHash}"] .share`);
  await page.waitForSelector('#share-dialog[open]');
  await page.select('#share-lifetime', '3600');
  await page.click('#share-create');
  await page.waitForSelector('#share-result:not([hidden])');
  const url = await page.$eval('#share-url', (el) => el.value);
  t.check(`the link is shown in a field (${url})`,
    url.startsWith(`${base}/service/fileupload/${smallHash}/content?`));
  t.checkEq('with the lifetime chosen', JSON.stringify({ expires_in: 3600 }), asked[0]);
  const clip = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => `(${e.message})`);
  t.checkEq('and on the clipboard', url, clip);
  await t.shot(page, out, 'share');
  await page.click('#share-close');
  await page.waitForSelector('#share-dialog:not([open])');

  const fresh = await openFresh(browser, url);
  t.checkEq('opened without a token in a fresh context: 200', 200, fresh.status);
  t.checkEq('the bytes match', fs.readFileSync(small, 'latin1'), fresh.body);

  const tampered = url.replace(/([?&][^=]+=)([0-9a-f])/i,
    (m, k, c) => k + (c === '0' ? '1' : '0'));
  const bad = await openFresh(browser, tampered);
  t.checkEq('a tampered link: 403', 403, bad.status);

  const short = await t.api(base, 'POST', `/service/fileupload/${smallHash}/links`,
    JSON.stringify({ expires_in: 1 }), { ...auth, 'Content-Type': 'application/json' });
  t.checkEq('a link of 1 s', 201, short.status);
  await new Promise((r) => setTimeout(r, 2200));
  const expired = await openFresh(browser, base + short.json.url);
  t.checkEq('expired: 410', 410, expired.status);
  t.check(`as JSON (${expired.type})`, /json/.test(expired.type ?? ''));

  // -------------------------------------------------- native download
  const cdp = await browser.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', {
    behavior: 'allow', downloadPath: downloads, eventsEnabled: true,
  });
  const fetched = [];
  page.on('request', (req) => {
    if (req.url().includes('/content') && ['fetch', 'xhr'].includes(req.resourceType())) {
      fetched.push(req.url());
    }
  });
  const done = new Promise((resolve) => {
    cdp.on('Browser.downloadProgress', (e) => {
      if (e.state === 'completed' || e.state === 'canceled') resolve(e);
    });
  });
  const heapBefore = (await page.metrics()).JSHeapUsedSize;
  await page.click(`#file-rows tr[data-hash="${largeHash}"] .download`);
  const end = await done;
  t.checkEq('Download: the browser\'s own download completes', 'completed', end.state);
  const got = path.join(downloads, 'native.bin');
  t.check('into the download directory, under the stored name', fs.existsSync(got));
  if (fs.existsSync(got)) t.checkEq('the bytes match', largeHash, t.b2sum(got));
  t.checkEq('the page fetched no content itself', '', fetched.join(', '));
  const heapAfter = (await page.metrics()).JSHeapUsedSize;
  t.check(`the page's heap did not take the file (${heapBefore} -> ${heapAfter} bytes)`,
    heapAfter - heapBefore < (6 << 20));

  // ---------------------------------------- waiting for a write token
  const up = path.join(scratch, 'needs-write.txt');
  fs.writeFileSync(up, `write ${Date.now()} ${Math.random()}\n`);
  await (await page.$('#file-input')).uploadFile(up);
  await page.waitForSelector('#queue .item[data-state=token]');
  const waiting = (await t.queueState(page))[0];
  t.checkEq('an upload refused for the read token waits for a token', 'Waiting for a token…',
    waiting.status);
  t.checkEq('with an empty bar', 0, waiting.value);
  await t.shot(page, out, 'token-wait');
  await giveToken(page, writeToken);
  const [stored] = await t.waitForQueue(page, 1);
  t.checkEq('with the write token: stored', 'done', stored.state);

  await cdp.detach();
  t.checkNoProblems(problems, [/status of 401/, /status of 403/, /status of 410/]);
});
