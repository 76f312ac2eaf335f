// A service with a read and a write token.  The page asks for a token as
// soon as the list answers 401; a wrong one is asked for again; the read
// token shows the list; an upload then asks again (401), and with the
// write token a small file (multipart) and a large one (tus) are stored.
// The token lives in sessionStorage only, and a download's link is made
// with it.
//
//	node token.js BASE_URL OUT_DIR SCRATCH_DIR READ_TOKEN WRITE_TOKEN

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const [scratch, readToken, writeToken] = rest;

async function giveToken(page, value) {
  await page.waitForSelector('#token-dialog[open]');
  const message = await page.$eval('#token-message', (el) => el.textContent);
  await page.type('#token-input', value);
  await page.keyboard.press('Enter');
  // Closed, or already asking again (a new, empty prompt).
  await page.waitForFunction(() => !document.querySelector('#token-dialog').open
    || document.querySelector('#token-input').value === '');
  return message;
}

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  const small = path.join(scratch, 'token-small.txt');
  fs.writeFileSync(small, `token test ${Date.now()} ${Math.random()}\n`);
  const large = t.randomFile(scratch, 'token-large.bin', 9 << 20);
  const hashes = { [path.basename(small)]: t.b2sum(small), [path.basename(large)]: t.b2sum(large) };

  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  t.ok('the page itself needs no token');
  const first = await giveToken(page, 'not-the-token');
  t.check(`the list's 401 asks for the token ("${first}")`, /needs a token/.test(first));
  const second = await giveToken(page, readToken);
  t.check(`a wrong token is asked for again ("${second}")`, /refused/.test(second));
  await page.waitForSelector('#list-error', { hidden: true });
  await page.waitForFunction(() => !document.querySelector('#files').hidden
    || !document.querySelector('#empty').hidden);
  t.ok('with the read token the list shows');
  t.check('"Forget token" is offered', await page.$eval('#forget-token', (b) => !b.hidden));

  await (await page.$('#file-input')).uploadFile(small, large);
  const third = await giveToken(page, writeToken);
  t.check(`an upload with the read token asks again ("${third}")`, /refused/.test(third));
  const items = await t.waitForQueue(page, 2);
  for (const item of items) {
    t.checkEq(`${item.name}: stored with the write token`, 'done', item.state);
    t.checkEq(`${item.name}: its hash`, hashes[item.name], item.hash);
  }

  const storage = await page.evaluate(() => ({
    session: sessionStorage.getItem('fileupload.token'),
    local: JSON.stringify(localStorage),
  }));
  t.checkEq('the token is in sessionStorage', writeToken, storage.session);
  t.check('and nowhere in localStorage', !storage.local.includes(writeToken)
    && !storage.local.includes(readToken));

  // A download cannot be a plain link: the token asks for a short-lived
  // one (share.js follows the download itself).
  const h = hashes[path.basename(small)];
  await page.waitForSelector(`#file-rows tr[data-hash="${h}"]`);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/${h}/links`)),
    page.click(`#file-rows tr[data-hash="${h}"] .download`),
  ]);
  t.checkEq('download with the token: a link made (201)', 201, res.status());

  // Another tab's session starts without it.
  const ctx = await browser.createBrowserContext();
  const other = await ctx.newPage();
  await other.goto(base + t.UI_PATH, { waitUntil: 'networkidle0' });
  await other.waitForSelector('#token-dialog[open]');
  t.ok('a new session asks again');
  await ctx.close();

  // The 401s that made the page ask are failed loads, on purpose.
  t.checkNoProblems(problems, [/status of 401/]);
});
