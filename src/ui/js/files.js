// The stored files: one page of the list at a time (the Link header's
// "next", a stack of the pages seen for "previous"), filtered in place,
// each row with download, share link, inline rename and delete.  Names
// are shown with bidi and control characters escaped (shownName).

import {
  contentUrl, download, firstPage, listPage, remove, rename, token,
} from './api.js';
import { copyText } from './clipboard.js';
import { confirmDelete } from './dialogs.js';
import {
  humanSize, humanTime, keptName, shortHash, shownName,
} from './format.js';
import { share } from './share.js';

export class FileTable {
  // EL: the page's elements by role; ANNOUNCE(text): to screen readers.
  constructor(el, announce) {
    this.el = el;
    this.announce = announce;
    this.pages = [];   // URLs of the pages shown so far, the current last
    this.next = null;
    this.files = [];

    el.filter.addEventListener('input', () => this.render());
    el.order.addEventListener('change', () => this.reload());
    el.pageSize.addEventListener('change', () => this.reload());
    el.refresh.addEventListener('click', () => this.show(this.current()));
    el.next.addEventListener('click', () => this.next && this.show(this.next, true));
    el.prev.addEventListener('click', () => {
      if (this.pages.length < 2) return;
      this.pages.pop();
      this.show(this.pages.pop(), true);
    });
  }

  current() {
    return this.pages.at(-1)
      ?? firstPage(this.el.pageSize.value, this.el.order.value);
  }

  // Back to the first page, e.g. after an upload or a new order.
  reload() {
    this.pages = [];
    return this.show(this.current());
  }

  async show(url, moved = false) {
    this.el.error.hidden = true;
    try {
      const { files, next } = await listPage(url);
      if (this.pages.at(-1) !== url) this.pages.push(url);
      this.files = files;
      this.next = next;
      this.render();
      if (moved) this.announce(`Page ${this.pages.length}, ${files.length} files.`);
    } catch (err) {
      this.el.error.textContent = `The list could not be loaded: ${err.message}`;
      this.el.error.hidden = false;
    }
  }

  render() {
    const needle = this.el.filter.value.trim().toLowerCase();
    const shown = needle === '' ? this.files : this.files.filter((f) =>
      [f.file_name, f.file_type, f.file_hash]
        .some((v) => String(v).toLowerCase().includes(needle)));
    this.el.rows.replaceChildren(...shown.map((f) => this.row(f)));
    this.el.empty.hidden = this.files.length > 0 || this.pages.length > 1;
    this.el.noMatch.hidden = this.files.length === 0 || shown.length > 0;
    this.el.table.hidden = shown.length === 0;
    this.el.prev.disabled = this.pages.length < 2;
    this.el.next.disabled = this.next === null;
    this.el.pageLabel.textContent = `Page ${Math.max(1, this.pages.length)}`;
  }

  row(f) {
    const tr = this.el.rowTemplate.content.firstElementChild.cloneNode(true);
    tr.dataset.hash = f.file_hash;
    const name = shownName(f.file_name);
    tr.querySelector('.file-name').textContent = name;
    tr.querySelector('.type').textContent = f.file_type;
    const size = tr.querySelector('.size');
    size.textContent = humanSize(f.file_size);
    size.title = `${f.file_size} bytes`;
    const time = tr.querySelector('time');
    time.dateTime = f.created_at;
    time.textContent = humanTime(f.created_at);
    const code = tr.querySelector('code');
    code.textContent = shortHash(f.file_hash);
    code.title = f.file_hash;

    const copy = tr.querySelector('.copy');
    copy.setAttribute('aria-label', `Copy the hash of ${name}`);
    copy.addEventListener('click', async () => {
      try {
        await copyText(f.file_hash);
        copy.textContent = 'Copied';
        this.announce('Hash copied.');
      } catch {
        copy.textContent = 'Copy failed';
      }
      setTimeout(() => { copy.textContent = 'Copy'; }, 2000);
    });

    const dl = tr.querySelector('.download');
    dl.href = contentUrl(f.file_hash);
    dl.setAttribute('download', f.file_name);
    dl.setAttribute('aria-label', `Download ${name}`);
    dl.addEventListener('click', (event) => {
      event.preventDefault();
      download(f.file_hash, f.file_name).catch((err) => {
        // A service without links: the plain link does without a token.
        if ([404, 405].includes(err.status) && !token()) location.assign(dl.href);
        else this.announce(`Not downloaded: ${err.message}`);
      });
    });

    const link = tr.querySelector('.share');
    link.setAttribute('aria-label', `Share a link to ${name}`);
    link.addEventListener('click', async () => {
      await share(f, this.announce);
      link.focus();
    });

    const ren = tr.querySelector('.rename');
    ren.setAttribute('aria-label', `Rename ${name}`);
    ren.addEventListener('click', () => this.editName(tr, f));

    const del = tr.querySelector('.delete');
    del.setAttribute('aria-label', `Delete ${name}`);
    del.addEventListener('click', () => this.delete(f, del));
    return tr;
  }

  // The name cell becomes a form over the type, size and creation columns
  // (room to read a long name); Escape or Cancel puts the name back.  The
  // field shows control characters escaped as the table does; escapes left
  // as they are stay the characters they stand for.
  editName(tr, f) {
    const cell = tr.querySelector('.name');
    const form = this.el.renameTemplate.content.firstElementChild.cloneNode(true);
    const input = form.querySelector('.rename-input');
    const error = form.querySelector('.rename-error');
    for (const td of tr.querySelectorAll('.type, .size, .created')) td.hidden = true;
    cell.colSpan = 4;
    input.value = shownName(f.file_name);
    input.setAttribute('aria-label', `New name for ${shownName(f.file_name)}`);
    const restore = () => {
      this.render();
      this.el.rows.querySelector(`tr[data-hash="${f.file_hash}"] .rename`)?.focus();
    };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const updated = await rename(f.file_hash, keptName(input.value));
        Object.assign(f, updated);
        this.announce(`Renamed to ${shownName(updated.file_name)}.`);
        restore();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    });
    form.querySelector('.rename-cancel').addEventListener('click', restore);
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        restore();
      }
    });
    cell.replaceChildren(form);
    input.focus();
    input.select();
  }

  async delete(f, button) {
    if (!await confirmDelete(f.file_name)) {
      button.focus();
      return;
    }
    try {
      await remove(f.file_hash);
      this.files = this.files.filter((x) => x !== f);
      this.announce(`${shownName(f.file_name)} deleted.`);
      if (this.files.length === 0 && this.pages.length > 1) {
        // The page's last file: the page before it.
        this.pages.pop();
        await this.show(this.pages.pop(), true);
      } else {
        this.render();
      }
      this.el.filter.focus();
    } catch (err) {
      this.el.error.textContent = `${shownName(f.file_name)} was not deleted: ${err.message}`;
      this.el.error.hidden = false;
    }
  }
}
