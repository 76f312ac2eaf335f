// Three files picked at once, one of BIG_MIB (64) MiB going up resumably
// through a connection throttled to 8 MiB/s: progress events are seen,
// every bar reaches 100 %, the table shows the files with the hashes
// b2sum -l 256 gives, and the copy button copies a full hash.  Screenshots:
// empty, uploading, list.
//
//	node upload.js BASE_URL OUT_DIR SCRATCH_DIR [BIG_MIB]

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];
const bigMiB = Number(rest[1] || 64);

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  const files = [
    t.randomFile(scratch, 'notes.txt', 0),
    t.randomFile(scratch, 'photo.bin', 300 * 1024),
    t.randomFile(scratch, 'big-video.bin', bigMiB << 20),
  ];
  fs.writeFileSync(files[0], `browser test notes ${Date.now()} ${Math.random()}\n`);
  const hashes = Object.fromEntries(files.map((f) => [path.basename(f), t.b2sum(f)]));

  await t.clearService(base);
  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  await page.waitForSelector('#empty:not([hidden])');
  t.ok('an empty service shows the empty state');
  await t.shot(page, out, 'empty');

  await t.network(page, { upload: 8 << 20 });
  const input = await page.$('#file-input');
  await input.uploadFile(...files);

  // The big one's bar while it moves.
  const seen = new Set();
  const big = path.basename(files[2]);
  let shotTaken = false;
  for (;;) {
    const items = await t.queueState(page);
    const b = items.find((i) => i.name === big);
    if (b) {
      seen.add(b.value);
      if (!shotTaken && b.value >= 20 && b.state === 'uploading') {
        await t.shot(page, out, 'uploading');
        shotTaken = true;
        t.check(`speed and time left shown while uploading ("${b.status}")`,
          /%.*\/s.*left/.test(b.status));
      }
      if (!['queued', 'hashing', 'uploading'].includes(b.state)) break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const between = [...seen].filter((v) => v > 0 && v < 100);
  t.check(`progress events seen for the big file (${between.length} values between 0 and 100)`,
    between.length >= 3);

  const items = await t.waitForQueue(page, 3);
  for (const item of items) {
    t.checkEq(`${item.name}: stored`, 'done', item.state);
    t.checkEq(`${item.name}: its bar at 100 %`, 100, item.value);
    t.checkEq(`${item.name}: the hash of the upload`, hashes[item.name], item.hash);
  }
  const live = await page.$eval('#announce', (el) => el.getAttribute('aria-live'));
  t.checkEq('progress is announced through a live region', 'polite', live);

  await page.waitForFunction((n) => document.querySelectorAll('#file-rows tr').length >= n,
    {}, 3);
  const rows = await t.tableRows(page);
  for (const [name, hash] of Object.entries(hashes)) {
    const row = rows.find((r) => r.name === name);
    t.check(`the table shows ${name}`, row !== undefined);
    if (row) t.checkEq(`${name}: the table's hash is b2sum -l 256 of the source`, hash, row.shownHash);
  }
  const bigRow = rows.find((r) => r.name === big);
  t.checkEq('the size in human units', `${bigMiB.toFixed(1)} MiB`, bigRow?.size);

  // Copy to clipboard: the full hash.
  const ctx = browser.defaultBrowserContext();
  await ctx.overridePermissions(base, ['clipboard-read', 'clipboard-write',
    'clipboard-sanitized-write']);
  await page.click(`#file-rows tr[data-hash="${hashes[big]}"] .copy`);
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  t.checkEq('the copy button copies the full hash', hashes[big], copied);

  await t.network(page, {});
  await t.shot(page, out, 'list');

  // Phone width: nothing wider than the screen.
  await page.setViewport({ width: 390, height: 844 });
  const overflow = await page.evaluate(() =>
    document.documentElement.scrollWidth - window.innerWidth);
  t.check(`nothing wider than a phone's screen (overflow ${overflow}px)`, overflow <= 0);
  await t.shot(page, out, 'phone');

  // The same bytes through the API: the hash the service keeps.
  for (const [name, hash] of Object.entries(hashes)) {
    const meta = await t.api(base, 'GET', `/service/fileupload/${hash}`);
    t.checkEq(`${name}: the service has it`, name, meta.json?.file_name);
  }
  t.checkNoProblems(problems);
});
