// The database stopped (by the scenario): the page says so, in the API's
// words, both for the list and for an upload, which waits and tries again
// rather than failing or calling it a lost connection.  Screenshot:
// unavailable.
//
//	node unavailable.js BASE_URL OUT_DIR SCRATCH_DIR

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  const file = path.join(scratch, 'while-down.txt');
  fs.writeFileSync(file, `down ${Date.now()} ${Math.random()}\n`);

  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  await page.waitForSelector('#list-error:not([hidden])');
  const listError = await page.$eval('#list-error', (el) => el.textContent);
  t.check(`the list says the database is unavailable ("${listError}")`,
    /database unavailable/.test(listError));
  await (await page.$('#file-input')).uploadFile(file);
  await page.waitForSelector('#queue .item[data-state=waiting]');
  const [item] = await t.queueState(page);
  t.check(`the upload says why it waits ("${item.status}")`,
    /database unavailable/.test(item.status) && /trying again/i.test(item.status)
    && !/connection lost/i.test(item.status));
  await t.shot(page, out, 'unavailable');
  t.checkNoProblems(problems, [/status of 503/]);
});
