// The upload queue: one entry per file with its progress bar, speed, time
// left and a cancel button.  Large files go up resumably (tus, through
// tus-js-client's global "tus"), so a dropped connection or a page reload
// (the same file picked again) continues where the service stopped; small
// ones in one multipart POST.

import {
  TUS_ENDPOINT, apiError, contentUrl, metadata, needToken, postFile, token,
} from './api.js';
import { humanDuration, humanSize, humanSpeed } from './format.js';

const RESUMABLE_FROM = 8 * 1024 * 1024;
// A PATCH per chunk: what a cut connection can cost at most is resent
// only when the service did not keep it (it keeps what arrived).
const CHUNK_SIZE = 16 * 1024 * 1024;
const AT_ONCE = 3;

// Bytes per second, smoothed over the progress events.
class Rate {
  constructor() {
    this.t = performance.now();
    this.bytes = 0;
    this.perSecond = 0;
  }

  update(sent) {
    const now = performance.now();
    const dt = (now - this.t) / 1000;
    if (sent < this.bytes) this.bytes = sent; // resumed from an earlier offset
    if (dt < 0.2) return;
    const r = (sent - this.bytes) / dt;
    this.perSecond = this.perSecond ? 0.7 * this.perSecond + 0.3 * r : r;
    this.t = now;
    this.bytes = sent;
  }
}

class UploadItem {
  constructor(file, queue) {
    this.file = file;
    this.queue = queue;
    this.rate = new Rate();
    this.milestone = 0;
    this.finished = false;
    this.cancelled = false;
    this.abort = null;

    const li = queue.template.content.firstElementChild.cloneNode(true);
    this.el = li;
    this.bar = li.querySelector('progress');
    this.status = li.querySelector('.item-status');
    this.cancelButton = li.querySelector('.item-cancel');
    li.querySelector('.item-name').textContent = file.name;
    li.querySelector('.item-size').textContent = humanSize(file.size);
    this.bar.setAttribute('aria-label', `Upload of ${file.name}`);
    this.cancelButton.setAttribute('aria-label', `Cancel the upload of ${file.name}`);
    this.cancelButton.addEventListener('click', () => this.cancel());
    this.setState('queued', 'Waiting…');
  }

  setState(state, text) {
    this.el.dataset.state = state;
    this.status.textContent = text;
  }

  // Resolves once the upload has ended, however it ended.
  run() {
    this.setState('uploading', 'Starting…');
    this.queue.announce(`Uploading ${this.file.name}.`);
    return new Promise((resolve) => {
      this.resolve = resolve;
      // Without tus-js-client (not installed) one POST still works.
      const resumable = this.file.size >= RESUMABLE_FROM && globalThis.tus?.isSupported;
      if (resumable) this.startTus();
      else this.startPost();
    });
  }

  progress(sent, total) {
    if (this.finished || total <= 0) return;
    this.rate.update(sent);
    const pct = Math.floor((sent / total) * 100);
    this.bar.value = pct;
    const speed = this.rate.perSecond;
    const parts = [`${pct} %`];
    if (speed > 0) {
      parts.push(humanSpeed(speed), `${humanDuration((total - sent) / speed)} left`);
    }
    this.setState('uploading', parts.join(' · '));
    const step = Math.floor(pct / 25) * 25;
    if (step > this.milestone && step < 100) {
      this.milestone = step;
      this.queue.announce(`${this.file.name}: ${step} % uploaded.`);
    }
  }

  end(state, text, link) {
    if (this.finished) return;
    this.finished = true;
    this.cancelButton.hidden = true;
    if (state === 'done' || state === 'duplicate') this.bar.value = 100;
    this.setState(state, text);
    if (link) {
      this.status.append(' ');
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      a.setAttribute('download', '');
      this.status.append(a);
    }
    this.queue.announce(`${this.file.name}: ${text}`);
    this.resolve?.();
    if (state === 'done') this.queue.onStored();
  }

  stored(hash) {
    this.el.dataset.hash = hash ?? '';
    this.end('done', 'Stored.');
  }

  // A 403 for the same bytes: not an error, the file is there already.
  async duplicate(err) {
    const hash = err.body?.file_hash;
    if (typeof hash !== 'string') {
      this.end('error', err.message);
      return;
    }
    let name = hash.slice(0, 12);
    try {
      name = (await metadata(hash)).file_name;
    } catch {
      // deleted meanwhile or unreadable: the hash will do
    }
    this.el.dataset.hash = hash;
    this.end('duplicate', 'Already stored as', { href: contentUrl(hash), text: name });
  }

  // The connection dropped (or the service is away): tries again when the
  // browser is back online, else in a few seconds, until cancelled.
  waitForNetwork(again) {
    this.setState('waiting', 'Connection lost: resuming when it is back…');
    this.queue.announce(`${this.file.name}: connection lost, waiting to resume.`);
    const retry = () => {
      window.removeEventListener('online', retry);
      clearTimeout(timer);
      if (!this.cancelled && !this.finished) again();
    };
    window.addEventListener('online', retry);
    const timer = setTimeout(retry, navigator.onLine ? 5000 : 600000);
  }

  startPost() {
    const { promise, abort } = postFile(this.file, (s, t) => this.progress(s, t));
    this.abort = abort;
    promise.then(async ({ status, text }) => {
      if (status === 201) {
        this.stored(JSON.parse(text).file_hash);
      } else if (status === 401) {
        if (await needToken()) this.startPost();
        else this.end('error', apiError(status, text).message);
      } else if (status === 403) {
        await this.duplicate(apiError(status, text));
      } else if (status === 502 || status === 503 || status === 504) {
        this.waitForNetwork(() => this.startPost());
      } else {
        this.end('error', apiError(status, text).message);
      }
    }, () => {
      if (!this.cancelled) this.waitForNetwork(() => this.startPost());
    });
  }

  startTus() {
    const upload = new globalThis.tus.Upload(this.file, {
      endpoint: TUS_ENDPOINT,
      chunkSize: CHUNK_SIZE,
      retryDelays: [0, 1000, 3000, 5000],
      metadata: {
        filename: this.file.name,
        filetype: this.file.type || 'application/octet-stream',
      },
      removeFingerprintOnSuccess: true,
      onBeforeRequest: (req) => {
        const t = token();
        if (t) req.setHeader('Authorization', `Bearer ${t}`);
      },
      onProgress: (sent, total) => this.progress(sent, total),
      onSuccess: ({ lastResponse }) => this.stored(lastResponse.getHeader('File-Hash')),
      onError: (err) => this.tusError(err),
    });
    this.abort = () => upload.abort(true).catch(() => {});
    this.tus = upload;
    // The same file picked again after a reload: continue its upload.
    upload.findPreviousUploads().then((previous) => {
      if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    }, () => upload.start());
  }

  async tusError(err) {
    if (this.cancelled) return;
    const res = err.originalResponse;
    const status = res ? res.getStatus() : 0;
    if (status === 401) {
      if (await needToken()) this.tus.start();
      else this.end('error', apiError(status, res.getBody()).message);
    } else if (status === 403) {
      await this.duplicate(apiError(status, res.getBody()));
    } else if (err.originalRequest && (status === 0 || status >= 500)) {
      this.waitForNetwork(() => this.tus.start());
    } else {
      this.end('error', res ? apiError(status, res.getBody()).message : err.message);
    }
  }

  cancel() {
    if (this.finished) return;
    this.cancelled = true;
    if (this.abort) this.abort();
    this.end('cancelled', 'Cancelled.');
  }
}

export class UploadQueue {
  // LIST: the <ul>; TEMPLATE: an entry; ANNOUNCE(text): to screen
  // readers; ON_STORED(): a file was stored.
  constructor(list, template, announce, onStored) {
    this.list = list;
    this.template = template;
    this.announce = announce;
    this.onStored = onStored;
    this.waiting = [];
    this.running = 0;
  }

  add(files) {
    for (const file of files) {
      const item = new UploadItem(file, this);
      this.list.prepend(item.el);
      this.waiting.push(item);
    }
    this.pump();
  }

  pump() {
    while (this.running < AT_ONCE && this.waiting.length > 0) {
      const item = this.waiting.shift();
      if (item.cancelled) continue;
      this.running++;
      item.run().then(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
