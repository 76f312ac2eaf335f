// Names with '"', '%', non-ASCII letters and a right-to-left override are
// stored exactly, whichever way the page sends the file: a small one as a
// multipart POST (with the file_name field), a 9 MiB one through tus.  The
// table shows the override as a visible escape, never as a control.
//
//	node names.js BASE_URL OUT_DIR SCRATCH_DIR

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];

t.run(async (browser) => {
  const problems = [];
  const dir = path.join(scratch, 'names');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = `${Date.now()}`;
  const smallName = `say "hi" 100% é ${stamp} \u202Etxt.exe`;
  const largeName = `big "quoted" %22 ü ${stamp} \u202Efdp.exe.bin`;
  const small = path.join(dir, smallName);
  fs.writeFileSync(small, `name test ${stamp} ${Math.random()}\n`);
  const large = t.randomFile(dir, largeName, 9 << 20);
  const want = { [smallName]: t.b2sum(small), [largeName]: t.b2sum(large) };

  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  await (await page.$('#file-input')).uploadFile(small, large);
  const items = await t.waitForQueue(page, 2);
  for (const item of items) {
    t.check(`queue shows the override escaped ("${item.name}")`,
      item.name.includes('[U+202E]') && !item.name.includes('\u202E'));
  }
  for (const [name, hash] of Object.entries(want)) {
    const kind = name === smallName ? 'multipart' : 'tus';
    const item = items.find((i) => i.hash === hash);
    t.checkEq(`${kind}: stored`, 'done', item?.state);
    const meta = await t.api(base, 'GET', `/service/fileupload/${hash}`);
    t.checkEq(`${kind}: the name kept exactly`, name, meta.json?.file_name);
    await page.waitForSelector(`#file-rows tr[data-hash="${hash}"]`);
    const shown = await page.$eval(`#file-rows tr[data-hash="${hash}"] .file-name`,
      (el) => ({ text: el.textContent, tag: el.tagName }));
    t.check(`${kind}: the table shows it escaped in a <bdi> ("${shown.text}")`,
      shown.tag === 'BDI' && shown.text === name.replace('\u202E', '[U+202E]'));
  }
  await t.shot(page, out, 'names');

  // Rename shows the escape too; saved unchanged, the name stays exact.
  const row = `#file-rows tr[data-hash="${want[smallName]}"]`;
  await page.click(`${row} .rename`);
  await page.waitForSelector(`${row} .rename-input`);
  const field = await page.$eval(`${row} .rename-input`, (el) => el.value);
  t.checkEq('the rename field shows the override escaped',
    smallName.replace('\u202E', '[U+202E]'), field);
  await page.keyboard.press('End');
  await page.keyboard.type('.v2');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${row} .file-name`);
  const renamed = await t.api(base, 'GET', `/service/fileupload/${want[smallName]}`);
  t.checkEq('renamed: the override kept as the character it is', `${smallName}.v2`,
    renamed.json?.file_name);
  t.checkNoProblems(problems);
});
