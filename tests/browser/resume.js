// Resumable uploads in the browser.  A large file going up through a
// throttled connection: the connection cut (DevTools offline) at a quarter
// shows "connection lost", and restored, the upload goes on from where the
// service stopped (not from 0) and completes with the source's hash.  Then
// another one interrupted by a page reload: the same file picked again
// continues from the stored upload URL and completes.  Screenshot: offline.
//
//	node resume.js BASE_URL OUT_DIR SCRATCH_DIR [MIB]

'use strict';

const fs = require('node:fs');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];
const mib = Number(rest[1] || 48);
const RATE = 4 << 20;

// Progress values of NAME's bar from now until PRED(item) holds.
async function watch(page, name, pred, timeout = 600000) {
  const values = [];
  const end = Date.now() + timeout;
  for (;;) {
    const item = (await t.queueState(page)).find((i) => i.name === name);
    if (item) {
      values.push(item.value);
      if (pred(item)) return { item, values };
    }
    if (Date.now() > end) throw new Error(`${name}: timed out (${JSON.stringify(item)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function tusKeys(page) {
  return page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')));
}

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });

  // ---------------------------------------------- the connection cut
  const cut = t.randomFile(scratch, 'cut-off.bin', mib << 20);
  const cutHash = t.b2sum(cut);
  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  let cdp = await t.network(page, { upload: RATE });
  await (await page.$('#file-input')).uploadFile(cut);
  const before = await watch(page, 'cut-off.bin', (i) => i.value >= 25);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  const waiting = await watch(page, 'cut-off.bin', (i) => i.state === 'waiting', 120000);
  t.check(`offline: the entry says the connection is lost ("${waiting.item.status}")`,
    /connection lost/i.test(waiting.item.status));
  await t.shot(page, out, 'offline');
  await new Promise((r) => setTimeout(r, 2000));
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: RATE, uploadThroughput: RATE,
  });
  const after = await watch(page, 'cut-off.bin', (i) => i.state !== 'waiting'
    && i.state !== 'uploading');
  t.checkEq('back online: the upload completes', 'done', after.item.state);
  t.checkEq('the stored hash is the source\'s', cutHash, after.item.hash);
  const resumedAt = Math.min(...after.values.filter((v) => v > 0));
  t.check(`it went on from where it was (offline from ${before.item.value} %, `
    + `first value after: ${after.values[0]} %, never back to 0)`,
    after.values.every((v) => v > 0) && resumedAt >= 10);

  // -------------------------------------------------- the page reload
  const rl = t.randomFile(scratch, 'reloaded.bin', mib << 20);
  const rlHash = t.b2sum(rl);
  await (await page.$('#file-input')).uploadFile(rl);
  const part = await watch(page, 'reloaded.bin', (i) => i.value >= 30);
  t.checkEq('the upload URL is remembered while it runs', 1, (await tusKeys(page)).length);
  await page.reload({ waitUntil: 'networkidle0' });
  cdp = await t.network(page, { upload: RATE });
  await (await page.$('#file-input')).uploadFile(rl);
  const again = await watch(page, 'reloaded.bin', (i) => !['queued', 'hashing', 'uploading'].includes(i.state));
  t.checkEq('after the reload, the same file completes', 'done', again.item.state);
  t.checkEq('with the source\'s hash', rlHash, again.item.hash);
  const firstSeen = again.values.find((v) => v > 0);
  t.check(`it continued after the reload (was at ${part.item.value} %, `
    + `went on from ${firstSeen} %)`, firstSeen >= 20);
  t.checkEq('the upload URL is forgotten once stored', 0, (await tusKeys(page)).length);
  await cdp.detach();

  // A cut request shows as a failed load; nothing else may.
  t.checkNoProblems(problems, [/ERR_INTERNET_DISCONNECTED/, /Failed to load resource: net::/]);
});
