// The upload queue: one entry per file with its progress bar, speed, time
// left and a cancel button.  Each file is hashed first (digest.js): one the
// service already has is not sent at all.  Large files go up resumably
// (tus, through tus-js-client's global "tus"), so a dropped connection or a
// page reload (the same file picked again) continues where the service
// stopped; small ones in one multipart POST.  Entries that succeeded leave
// the list a few seconds after the queue has gone quiet.

import {
  TUS_ENDPOINT, apiError, contentUrl, download, lookup, metadata, needToken,
  postFile, token, uploadLimit,
} from './api.js';
import { fileHash } from './digest.js';
import {
  humanDuration, humanSize, humanSpeed, shownName,
} from './format.js';

const RESUMABLE_FROM = 8 * 1024 * 1024;
// A PATCH per chunk: what a cut connection can cost at most is resent
// only when the service did not keep it (it keeps what arrived).
const CHUNK_SIZE = 16 * 1024 * 1024;
const AT_ONCE = 3;
const CLEAR_AFTER_MS = 6000;
const ACTIVE = ['queued', 'hashing', 'uploading', 'token', 'waiting'];

// "Larger than the 10 GiB limit …", or without the figure when the service
// did not give it (tus's Tus-Max-Size).
function tooLarge(limit) {
  return limit
    ? `Larger than the ${humanSize(limit).replace('.0 ', ' ')} limit of this service.`
    : 'Larger than the largest upload this service takes.';
}

// What a 503 says to a person: the API's reason (the database or the store
// unavailable, or busy), and that it is tried again.
function unavailable(err) {
  const why = err.body?.error ? err.message : 'the service is unavailable';
  return `Not sent yet: ${why}. Trying again in a few seconds…`;
}

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
    this.name = shownName(file.name);
    this.hash = null;
    li.querySelector('.item-name').textContent = this.name;
    li.querySelector('.item-size').textContent = humanSize(file.size);
    this.bar.setAttribute('aria-label', `Upload of ${this.name}`);
    this.cancelButton.setAttribute('aria-label', `Cancel the upload of ${this.name}`);
    this.cancelButton.addEventListener('click', () => this.cancel());
    this.setState('queued', 'Waiting…');
  }

  setState(state, text) {
    this.el.dataset.state = state;
    this.status.textContent = text;
  }

  // Resolves once the upload has ended, however it ended.
  run() {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.check().catch((err) => this.fail(err.message));
    });
  }

  // Too large, or stored already: said without sending anything.
  async check() {
    const limit = await uploadLimit();
    if (limit !== null && this.file.size > limit) {
      this.fail(tooLarge(limit));
      return;
    }
    this.setState('hashing', 'Checking whether the service has it…');
    const { promise, abort } = fileHash(this.file, (done, total) => {
      if (this.finished) return;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      this.setState('hashing', `Checking whether the service has it… ${pct} %`);
    });
    this.abort = abort;
    this.hash = await promise;
    if (this.finished) return;
    if (this.hash !== null) {
      const stored = await this.lookup();
      if (this.finished) return;
      if (stored) {
        this.alreadyStored(this.hash, stored.file_name);
        return;
      }
    }
    this.send();
  }

  // The stored file with this hash, or null (also when it cannot be asked).
  async lookup() {
    try {
      return await lookup(this.hash);
    } catch {
      return null;
    }
  }

  send() {
    this.setState('uploading', 'Starting…');
    this.queue.announce(`Uploading ${this.name}.`);
    // Without tus-js-client (not installed) one POST still works.
    const resumable = this.file.size >= RESUMABLE_FROM && globalThis.tus?.isSupported;
    if (resumable) this.startTus();
    else this.startPost();
  }

  // The service wants a token: the entry says so until one is given.
  async askToken(again, status, body) {
    this.bar.value = 0;
    this.setState('token', 'Waiting for a token…');
    if (await needToken()) again();
    else this.fail(apiError(status, body).message);
  }

  fail(text) {
    this.end('error', `Failed: ${text}`);
  }

  // An answer that is not a success, from either way of sending.
  async refused(status, body, again) {
    const err = apiError(status, body);
    if (status === 401) {
      await this.askToken(again, status, body);
    } else if (status === 403) {
      await this.duplicate(err);
    } else if (status === 413) {
      this.fail(tooLarge(await uploadLimit()));
    } else if (status === 503 && err.body?.error) {
      this.waitForNetwork(again, unavailable(err));
    } else if (status === 502 || status === 503 || status === 504) {
      this.waitForNetwork(again);
    } else {
      this.fail(err.message);
    }
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
      a.href = contentUrl(link.hash);
      a.textContent = shownName(link.name);
      a.setAttribute('download', link.name);
      a.addEventListener('click', (event) => {
        event.preventDefault();
        download(link.hash, link.name).catch((err) =>
          this.queue.announce(`Not downloaded: ${err.message}`));
      });
      this.status.append(a);
    }
    this.queue.announce(`${this.name}: ${this.status.textContent}`);
    this.resolve?.();
    if (state === 'done') this.queue.onStored();
    this.queue.ended();
  }

  stored(hash) {
    this.el.dataset.hash = hash ?? '';
    if (this.hash && hash && hash !== this.hash) {
      this.fail(`the service stored bytes with another hash (${hash.slice(0, 12)}…): the file changed while it was sent.`);
      this.queue.onStored();
      return;
    }
    this.end('done', 'Stored.');
  }

  alreadyStored(hash, name) {
    this.el.dataset.hash = hash;
    this.end('duplicate', 'Already stored as', { hash, name });
  }

  // A 403 for the same bytes: not an error, the file is there already.
  async duplicate(err) {
    const hash = err.body?.file_hash;
    if (typeof hash !== 'string') {
      this.fail(err.message);
      return;
    }
    let name = hash.slice(0, 12);
    try {
      name = (await metadata(hash)).file_name;
    } catch {
      // deleted meanwhile or unreadable: the hash will do
    }
    this.alreadyStored(hash, name);
  }

  // The connection dropped (or the service is away): tries again when the
  // browser is back online, else in a few seconds, until cancelled.
  waitForNetwork(again, text = 'Connection lost: resuming when it is back…') {
    this.setState('waiting', text);
    this.queue.announce(`${this.name}: ${text}`);
    const retry = () => {
      window.removeEventListener('online', retry);
      clearTimeout(timer);
      if (!this.cancelled && !this.finished) again();
    };
    window.addEventListener('online', retry);
    const timer = setTimeout(retry, navigator.onLine ? 5000 : 600000);
  }

  startPost() {
    const { promise, abort } = postFile(this.file, this.hash,
      (s, t) => this.progress(s, t));
    this.abort = abort;
    promise.then(async ({ status, text }) => {
      if (status === 201) {
        this.stored(JSON.parse(text).file_hash);
        return;
      }
      this.bar.value = 0; // nothing kept: a POST is sent again whole
      await this.refused(status, text, () => this.startPost());
    }, () => {
      this.bar.value = 0;
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
    const again = () => this.tus.start();
    if (res && (status < 500 || status === 503)) {
      await this.refused(status, res.getBody(), again);
    } else if (err.originalRequest) {
      this.waitForNetwork(again);
    } else {
      this.fail(err.message);
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
  // LIST: the <ul>; TEMPLATE: an entry; CLEAR_BUTTON: "Clear finished";
  // ANNOUNCE(text): to screen readers; ON_STORED(): a file was stored.
  constructor(list, template, clearButton, announce, onStored) {
    this.list = list;
    this.template = template;
    this.announce = announce;
    this.onStored = onStored;
    this.waiting = [];
    this.running = 0;
    this.clearTimer = null;
    this.clearButton = clearButton;
    clearButton.addEventListener('click', () => this.clearFinished());
  }

  items() {
    return [...this.list.children];
  }

  // Every entry that has ended, however it ended.
  clearFinished() {
    for (const li of this.items()) {
      if (!ACTIVE.includes(li.dataset.state)) li.remove();
    }
    this.showClear();
  }

  showClear() {
    this.clearButton.hidden = !this.items().some((li) =>
      !ACTIVE.includes(li.dataset.state));
  }

  // An entry ended: once nothing is left to do, the successes go.
  ended() {
    this.showClear();
    clearTimeout(this.clearTimer);
    if (this.items().some((li) => ACTIVE.includes(li.dataset.state))) return;
    this.clearTimer = setTimeout(() => {
      for (const li of this.items()) {
        if (li.dataset.state === 'done' || li.dataset.state === 'duplicate') li.remove();
      }
      this.showClear();
    }, CLEAR_AFTER_MS);
  }

  add(files) {
    clearTimeout(this.clearTimer);
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
