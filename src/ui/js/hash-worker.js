// A file's BLAKE2b-256 (the service's file_hash), computed off the page's
// thread a slice at a time: the file is never in memory whole.  Uses
// hash-wasm's browser build (vendor/blake2b.umd.min.js, the global
// "hashwasm").  Message in: a File; out: {progress: bytes} a few times,
// then {hash} or {error}.

/* global hashwasm */
importScripts('../vendor/blake2b.umd.min.js');

const SLICE = 8 * 1024 * 1024;

async function digest(file) {
  const h = await hashwasm.createBLAKE2b(256);
  h.init();
  for (let at = 0; at < file.size; at += SLICE) {
    const part = await file.slice(at, at + SLICE).arrayBuffer();
    h.update(new Uint8Array(part));
    postMessage({ progress: Math.min(at + SLICE, file.size) });
  }
  return h.digest('hex');
}

addEventListener('message', (event) => {
  digest(event.data).then((hash) => postMessage({ hash }),
    (err) => postMessage({ error: String(err?.message ?? err) }));
});
