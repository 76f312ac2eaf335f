// The file hash the service will give a file, computed in a Web Worker
// (hash-worker.js) before it is sent: a file already stored need not be
// sent at all.

// Resolves with the 64 hex digits, or null when the browser cannot
// compute it (no worker, no WebAssembly, the file unreadable): the upload
// then goes ahead and the service finds out.  Returns { promise, abort }.
export function fileHash(file, onProgress) {
  let worker;
  try {
    worker = new Worker(new URL('./hash-worker.js', import.meta.url));
  } catch {
    return { promise: Promise.resolve(null), abort: () => {} };
  }
  const promise = new Promise((resolve) => {
    const done = (value) => {
      worker.terminate();
      resolve(value);
    };
    worker.addEventListener('message', ({ data }) => {
      if (typeof data.progress === 'number') onProgress(data.progress, file.size);
      else if (typeof data.hash === 'string') done(data.hash);
      else done(null);
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      done(null);
    });
    worker.postMessage(file);
  });
  return { promise, abort: () => worker.terminate() };
}
