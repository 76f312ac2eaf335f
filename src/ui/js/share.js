// The "Share link" dialog: a lifetime to choose, then a signed link
// (api.js shareLink) that downloads the file without a token until it
// expires, shown in a field and put on the clipboard.

import { shareLink } from './api.js';
import { copyText } from './clipboard.js';
import { humanTime, shownName } from './format.js';

const $ = (id) => document.getElementById(id);

// Opens the dialog for the stored file F; ANNOUNCE(text) to screen readers.
export function share(f, announce) {
  const dialog = $('share-dialog');
  const form = $('share-form');
  const result = $('share-result');
  const field = $('share-url');
  const error = $('share-error');
  const expiry = $('share-expiry');
  const close = $('share-close');

  $('share-message').textContent = `A link to “${shownName(f.file_name)}”.`;
  result.hidden = true;
  error.hidden = true;
  field.value = '';

  const submit = async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const link = await shareLink(f.file_hash, Number($('share-lifetime').value));
      field.value = new URL(link.url, location.href).href;
      result.hidden = false;
      let copied = 'Copied to the clipboard.';
      try {
        await copyText(field.value);
      } catch {
        copied = 'Copy it from the field.';
      }
      expiry.textContent = `${copied} Valid until ${humanTime(link.expires_at)}.`;
      field.focus();
      field.select();
      announce(expiry.textContent);
    } catch (err) {
      error.textContent = `No link: ${err.message}`;
      error.hidden = false;
    }
  };
  const done = () => {
    form.removeEventListener('submit', submit);
    close.removeEventListener('click', done);
    dialog.removeEventListener('close', done);
    if (dialog.open) dialog.close();
  };
  form.addEventListener('submit', submit);
  close.addEventListener('click', done);
  dialog.addEventListener('close', done);
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
}
