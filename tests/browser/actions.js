// The table's actions, by keyboard where a person would use it: a file
// dropped on the page is stored; a duplicate upload says "already stored" with a link; rename shows the
// new name, a bad name shows the API's own message; delete asks, then
// removes the row; 30 files page 25 at a time through the Link headers,
// newest or oldest first; the filter narrows the page.  Screenshot: error.
//
//	node actions.js BASE_URL OUT_DIR SCRATCH_DIR

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];

async function upload(name, text) {
  const form = new FormData();
  form.append('upfile', new Blob([text]), name);
  const res = await t.api(base, 'POST', '/service/fileupload', form);
  if (res.status !== 201) throw new Error(`upload ${name}: ${res.status}`);
  return res.json.file_hash;
}

const rowOf = (hash) => `#file-rows tr[data-hash="${hash}"]`;

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  await t.clearService(base);
  const stamp = `${Date.now()}-${Math.random()}`;
  const names = [];
  for (let i = 1; i <= 30; i++) {
    names.push(`page-file-${String(i).padStart(2, '0')}.txt`);
    await upload(names.at(-1), `file ${i} ${stamp}\n`);
  }
  const dupSource = path.join(scratch, 'again.txt');
  fs.writeFileSync(dupSource, `file 30 ${stamp}\n`);
  const dupHash = t.b2sum(dupSource);

  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  await page.select('#page-size', '25');
  await page.waitForFunction(() => document.querySelectorAll('#file-rows tr').length === 25);

  // ------------------------------------------------ paging and order
  let rows = await t.tableRows(page);
  t.checkEq('newest first: the last upload on top', names[29], rows[0].name);
  t.check('a next page is offered', await page.$eval('#next-page', (b) => !b.disabled));
  await page.click('#next-page');
  await page.waitForFunction(() => document.querySelectorAll('#file-rows tr').length === 5);
  rows = await t.tableRows(page);
  t.checkEq('the second page ends with the first upload', names[0], rows[4].name);
  t.check('no page after it', await page.$eval('#next-page', (b) => b.disabled));
  await page.click('#prev-page');
  await page.waitForFunction(() => document.querySelectorAll('#file-rows tr').length === 25);
  t.checkEq('previous: back to the first page', names[29], (await t.tableRows(page))[0].name);
  await page.select('#order', 'oldest');
  await page.waitForFunction((n) =>
    document.querySelector('#file-rows tr .file-name')?.textContent === n, {}, names[0]);
  t.ok('oldest first: the first upload on top');
  await page.select('#order', 'newest');
  await page.waitForFunction((n) =>
    document.querySelector('#file-rows tr .file-name')?.textContent === n, {}, names[29]);

  // ---------------------------------------------------------- filter
  await page.type('#filter', 'file-2');
  rows = await t.tableRows(page);
  t.check(`the filter keeps page-file-2x only (${rows.length} rows)`,
    rows.length === 10 && rows.every((r) => r.name.includes('file-2')));
  await page.$eval('#filter', (el) => { el.value = ''; el.dispatchEvent(new Event('input')); });

  // ----------------------------------------------- drag and drop
  const droppedText = `dropped ${stamp}\n`;
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.txt', { type: 'text/plain' }));
    const target = document.querySelector('.files');
    for (const type of ['dragenter', 'dragover']) {
      target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
    window.overlayShown = !document.querySelector('#drop-overlay').hidden;
    target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
  }, droppedText);
  t.check('dragging files over the page shows the drop target',
    await page.evaluate(() => window.overlayShown));
  const [dropped] = await t.waitForQueue(page, 1);
  t.checkEq('a file dropped on the page is stored', 'done', dropped.state);
  const droppedMeta = await t.api(base, 'GET', `/service/fileupload/${dropped.hash}`);
  t.checkEq('under its name', 'dropped.txt', droppedMeta.json?.file_name);

  // ------------------------------------------------------- duplicate
  await (await page.$('#file-input')).uploadFile(dupSource);
  const [dup] = await t.waitForQueue(page, 2);
  t.checkEq('a duplicate is not an error', 'duplicate', dup.state);
  t.check(`it says "already stored" ("${dup.status}")`, /already stored as page-file-30\.txt/i.test(dup.status));
  t.checkEq('with a link to the stored file', `/service/fileupload/${dupHash}/content`, dup.link);

  // ---------------------------------------------------------- rename
  const target = await upload('rename-me.txt', `rename ${stamp}\n`);
  await page.click('#refresh');
  await page.waitForSelector(rowOf(target));
  await page.focus(`${rowOf(target)} .rename`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${rowOf(target)} .rename-input`);
  const focused = await page.evaluate(() => document.activeElement.className);
  t.check('the name field has the focus', focused.includes('rename-input'));
  await page.keyboard.type('renamed “ok”.txt');
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) =>
    document.querySelector(sel)?.textContent === 'renamed “ok”.txt', {}, `${rowOf(target)} .file-name`);
  t.ok('rename: the row shows the new name');
  const meta = await t.api(base, 'GET', `/service/fileupload/${target}`);
  t.checkEq('rename: the service has the new name', 'renamed “ok”.txt', meta.json?.file_name);

  // The API's message for a name with a slash, straight from the API.
  const refused = await t.api(base, 'PUT', `/service/fileupload/${target}`,
    JSON.stringify({ file_name: 'a/b.txt' }), { 'Content-Type': 'application/json' });
  await page.click(`${rowOf(target)} .rename`);
  await page.waitForSelector(`${rowOf(target)} .rename-input`);
  await page.keyboard.type('a/b.txt');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${rowOf(target)} .rename-error:not([hidden])`);
  const shown = await page.$eval(`${rowOf(target)} .rename-error`, (el) => el.textContent);
  t.check(`the API refused it (${refused.status})`, refused.status === 403 && refused.json?.error);
  t.checkEq('a bad name shows the API\'s own message', refused.json?.error, shown);
  await t.shot(page, out, 'error');
  await page.keyboard.press('Escape');
  await page.waitForSelector(`${rowOf(target)} .file-name`);
  t.checkEq('Escape puts the name back', 'renamed “ok”.txt',
    await page.$eval(`${rowOf(target)} .file-name`, (el) => el.textContent));

  // ---------------------------------------------------------- delete
  await page.focus(`${rowOf(target)} .delete`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#confirm-dialog[open]');
  t.ok('delete asks first');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm-dialog:not([open])');
  t.check('cancelled: the row stays', (await page.$(rowOf(target))) !== null);
  await page.click(`${rowOf(target)} .delete`);
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction((sel) => !document.querySelector(sel), {}, rowOf(target));
  t.ok('confirmed: the row is gone');
  const gone = await t.api(base, 'GET', `/service/fileupload/${target}`);
  t.checkEq('and the service no longer has it', 404, gone.status);

  // ------------------------------------------------------- download
  const dl = await page.$eval(`${rowOf(dupHash)} .download`, (a) => a.getAttribute('href'));
  const body = await fetch(base + dl).then((r) => r.text());
  t.checkEq('download: the link gives the stored bytes', `file 30 ${stamp}\n`, body);

  // The duplicate's 403 and the refused rename are failed loads, on purpose.
  t.checkNoProblems(problems, [/status of 403/]);
});
