'use strict';
// node upload.js ENDPOINT FILE CHUNK_BYTES CUT_FRACTION
//
// Uploads FILE to the tus ENDPOINT with tus-js-client in chunks of
// CHUNK_BYTES; once CUT_FRACTION of it is sent, aborts the upload mid-PATCH
// (its connection closed, as by a network drop), then resumes it in a new
// client from the upload URL (tus-js-client asks HEAD for the offset).
// Prints one JSON line: the URL, the offset the resume started from and the
// File-Hash of the completing answer.
const fs = require('fs');
const tus = require('tus-js-client');

const [endpoint, path, chunkArg, cutArg] = process.argv.slice(2);
const data = fs.readFileSync(path);
const chunkSize = Number(chunkArg);
const cutAt = Number(cutArg) * data.length;

function options(extra) {
  return Object.assign({
    endpoint,
    chunkSize,
    retryDelays: [0, 500, 1000, 2000],
    metadata: { filename: 'tus-js.bin', filetype: 'application/octet-stream' },
  }, extra);
}

function firstPart() {
  return new Promise((resolve, reject) => {
    let cut = false;
    const up = new tus.Upload(data, options({
      onError: reject,
      onSuccess: () => reject(new Error('completed before the cut')),
      onProgress: (sent) => {
        if (!cut && sent >= cutAt) {
          cut = true;
          // Without termination: the upload stays, as after a drop.
          up.abort(false).then(() => resolve(up.url), reject);
        }
      },
    }));
    up.start();
  });
}

function resume(url) {
  return new Promise((resolve, reject) => {
    const seen = { url, resumedFrom: null, fileHash: null };
    const up = new tus.Upload(data, options({
      uploadUrl: url,
      onError: reject,
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD' && seen.resumedFrom === null)
          seen.resumedFrom = Number(res.getHeader('Upload-Offset'));
        if (res.getHeader('File-Hash'))
          seen.fileHash = res.getHeader('File-Hash');
      },
      onSuccess: () => resolve(seen),
    }));
    up.start();
  });
}

firstPart()
  .then(resume)
  .then((seen) => { console.log(JSON.stringify(seen)); })
  .catch((err) => { console.error(String(err)); process.exit(1); });
