// An accessibility scan (axe-core, WCAG 2.x A and AA rules) of every
// screen: the main page with files and a queue (stored, already stored,
// failed, cancelled), the drop overlay, rename, the delete confirmation,
// the token dialog, the share dialog, and the phone width (which says
// "Choose files" and not "Drop files").  No serious or critical violation
// anywhere.  Screenshots: queue, drop, rename, phone.
//
//	node a11y.js BASE_URL OUT_DIR SCRATCH_DIR

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Runs axe on the page as it is now; fails on a serious or critical
// violation, naming the rule and the elements.
async function scan(page, screen) {
  // Through DevTools (as puppeteer evaluates), which the page's CSP allows.
  if (!await page.evaluate(() => typeof globalThis.axe === 'object')) {
    await page.evaluate(AXE);
  }
  const violations = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  t.check(`${screen}: no serious or critical accessibility violations${bad.length
    ? `: ${bad.map((v) => `${v.id} (${v.impact}) at ${v.nodes.join(', ')}`).join('; ')}` : ''}`,
  bad.length === 0);
  const minor = violations.filter((v) => !bad.includes(v));
  if (minor.length) t.ok(`${screen}: minor: ${minor.map((v) => v.id).join(', ')}`);
}

async function upload(name, text) {
  const form = new FormData();
  form.append('upfile', new Blob([text]), name);
  const res = await t.api(base, 'POST', '/service/fileupload', form);
  if (res.status !== 201) throw new Error(`upload ${name}: ${res.status}`);
  return res.json.file_hash;
}

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  await t.clearService(base);
  const stamp = `${Date.now()} ${Math.random()}`;
  await upload('report.pdf', `report ${stamp}\n`);
  await upload('holiday photo.jpg', `photo ${stamp}\n`);
  const hash = await upload('invoice\u202Efdp.exe', `invoice ${stamp}\n`);

  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  await page.waitForSelector(`#file-rows tr[data-hash="${hash}"]`);
  await scan(page, 'main');

  // A queue with each way an upload ends (the service takes 2 MiB).
  const dup = path.join(scratch, 'report copy.pdf');
  fs.writeFileSync(dup, `report ${stamp}\n`);
  const fresh = path.join(scratch, 'notes.txt');
  fs.writeFileSync(fresh, `notes ${stamp}\n`);
  const huge = t.randomFile(scratch, 'too-large.iso', 3 << 20);
  await (await page.$('#file-input')).uploadFile(fresh, dup, huge);
  const items = await t.waitForQueue(page, 3);
  const by = Object.fromEntries(items.map((i) => [i.name, i]));
  t.checkEq('a new file: stored', 'done', by['notes.txt']?.state);
  t.checkEq('the same bytes again: already stored', 'duplicate', by['report copy.pdf']?.state);
  t.checkEq('too large: failed', 'error', by['too-large.iso']?.state);
  t.check(`naming the limit, before sending ("${by['too-large.iso']?.status}")`,
    /^Failed: Larger than the 2 MiB limit/.test(by['too-large.iso']?.status ?? ''));
  const failedLook = await page.$eval('#queue .item[data-state=error]', (li) => ({
    colour: getComputedStyle(li.querySelector('.item-status')).color,
    border: getComputedStyle(li).borderLeftColor,
    value: li.querySelector('progress').value,
  }));
  t.check(`a failure looks like one (red text ${failedLook.colour}, not a full bar: ${failedLook.value})`,
    failedLook.colour === failedLook.border && failedLook.value < 100);
  t.check('"Clear finished" is offered', await page.$eval('#clear-finished', (b) => !b.hidden));
  await scan(page, 'queue');
  await t.shot(page, out, 'queue');
  // The successes leave by themselves; the failure stays until cleared.
  await page.waitForFunction(() => document.querySelectorAll('#queue .item').length === 1,
    { timeout: 15000 });
  t.ok('stored and already-stored entries cleared themselves after a few seconds');
  await page.click('#clear-finished');
  await page.waitForFunction(() => document.querySelectorAll('#queue .item').length === 0);
  t.ok('"Clear finished" removed the failure');

  // The drop overlay (its text on a card: contrast).
  await page.$eval('#drop-overlay', (el) => { el.hidden = false; });
  await scan(page, 'drop overlay');
  await t.shot(page, out, 'drop');
  await page.$eval('#drop-overlay', (el) => { el.hidden = true; });

  // Rename, wide enough to read a name.
  await page.click(`#file-rows tr[data-hash="${hash}"] .rename`);
  await page.waitForSelector('.rename-input');
  const width = await page.$eval('.rename-input', (el) => el.getBoundingClientRect().width);
  t.check(`the rename box is wide on a desktop (${Math.round(width)} px)`, width >= 300);
  await scan(page, 'rename');
  await t.shot(page, out, 'rename');
  await page.keyboard.press('Escape');

  // Delete confirmation.
  await page.click(`#file-rows tr[data-hash="${hash}"] .delete`);
  await page.waitForSelector('#confirm-dialog[open]');
  const message = await page.$eval('#confirm-message', (el) => el.textContent);
  t.check(`the confirmation shows the override escaped ("${message}")`,
    message.includes('[U+202E]') && !message.includes('\u202E'));
  await scan(page, 'delete confirmation');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm-dialog:not([open])');

  // Share link.
  await page.click(`#file-rows tr[data-hash="${hash}"] .share`);
  await page.waitForSelector('#share-dialog[open]');
  await page.click('#share-create');
  await page.waitForSelector('#share-result:not([hidden]), #share-error:not([hidden])');
  await scan(page, 'share dialog');
  await page.click('#share-close');

  // The token dialog, as a 401 opens it.
  await page.evaluate(() => {
    document.getElementById('token-message').textContent = 'This service needs a token for that.';
    document.getElementById('token-dialog').showModal();
  });
  await scan(page, 'token dialog');
  await page.keyboard.press('Escape');

  // Phone width.
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
  await page.reload({ waitUntil: 'networkidle0' });
  await page.waitForSelector(`#file-rows tr[data-hash="${hash}"]`);
  const drop = await page.$eval('.drop', (el) => el.innerText);
  t.check(`the phone view says "Choose files", not "Drop files" ("${drop.replace(/\n/g, ' ')}")`,
    /Choose files/.test(drop) && !/Drop files/.test(drop));
  await scan(page, 'phone');
  await t.shot(page, out, 'phone');

  t.checkNoProblems(problems, [/status of 413/]);
});
