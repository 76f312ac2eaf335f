// A large file the service already has is recognised in the browser: the
// page hashes it (BLAKE2b-256 in a Web Worker), asks for its metadata and
// says "already stored" without sending it.  Checked: the page made no
// POST or PATCH, and the service's counters of uploads, duplicates and tus
// bytes did not move.  A file it does not have goes up with its hash.
//
//	node dedupe.js BASE_URL OUT_DIR SCRATCH_DIR [MIB]

'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');

const { base, out, rest } = t.args();
const scratch = rest[0];
const mib = Number(rest[1] || 64);

// The metrics that would move if any upload body reached the service.
const COUNTERS = [
  'fileupload_uploaded_files_total', 'fileupload_uploaded_bytes_total',
  'fileupload_duplicate_uploads_total', 'fileupload_tus_uploads_created_total',
  'fileupload_tus_received_bytes_total',
];

async function counters() {
  const text = await fetch(`${base}/service/fileupload/metrics`).then((r) => r.text());
  const sums = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
    if (m && m[1] in sums) sums[m[1]] += Number(m[2]);
  }
  return sums;
}

t.run(async (browser) => {
  const problems = [];
  fs.mkdirSync(scratch, { recursive: true });
  const big = t.randomFile(scratch, 'stored-already.bin', mib << 20);
  const bigHash = t.b2sum(big);
  const first = execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}',
    '-F', `upfile=@${big};filename=first-copy.bin`, `${base}/service/fileupload`]).toString();
  t.checkEq(`${mib} MiB stored through the API first`, '201', first);

  const page = await t.newPage(browser, problems);
  await t.openUi(page, base);
  const sent = [];
  page.on('request', (req) => {
    if (['POST', 'PATCH', 'PUT'].includes(req.method())) sent.push(`${req.method()} ${req.url()}`);
  });
  const before = await counters();
  const started = Date.now();
  await (await page.$('#file-input')).uploadFile(big);
  const [item] = await t.waitForQueue(page, 1);
  const seconds = (Date.now() - started) / 1000;
  t.checkEq('the same bytes under another name: already stored', 'duplicate', item.state);
  t.check(`it names the stored file ("${item.status}")`, /Already stored as first-copy\.bin/.test(item.status));
  t.checkEq('with its hash', bigHash, item.hash);
  const b2Start = Date.now();
  t.b2sum(big);
  t.ok(`answered in ${seconds.toFixed(2)} s for ${mib} MiB (b2sum -l 256 of it now: ${((Date.now() - b2Start) / 1000).toFixed(2)} s)`);
  t.checkEq('the page sent nothing (no POST, PATCH or PUT)', '', sent.join(', '));
  const after = await counters();
  for (const c of COUNTERS) t.checkEq(`${c} unchanged`, before[c], after[c]);
  await t.shot(page, out, 'dedupe');

  // A file the service does not have: sent, with the hash as file_hash.
  const fresh = path.join(scratch, 'fresh.txt');
  fs.writeFileSync(fresh, `fresh ${Date.now()} ${Math.random()}\n`);
  const posted = page.waitForRequest((req) => req.method() === 'POST');
  await (await page.$('#file-input')).uploadFile(fresh);
  const post = await posted;
  const body = post.postData() ?? '';
  t.check('a new file is sent with its hash as the file_hash field',
    body === '' || body.includes(t.b2sum(fresh)));
  const items = await t.waitForQueue(page, 2);
  const stored = items.find((i) => i.name === 'fresh.txt');
  t.checkEq('and stored', 'done', stored?.state);
  t.checkEq('under the hash the page computed', t.b2sum(fresh), stored?.hash);

  t.checkNoProblems(problems);
});
