// The page's start: the drop target, the file picker, the upload queue
// and the table of stored files.

import { forgetToken, token } from './api.js';
import { FileTable } from './files.js';
import { UploadQueue } from './uploads.js';

const $ = (id) => document.getElementById(id);

const live = $('announce');
function announce(text) {
  // A change of text is what screen readers read out.
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

const table = new FileTable({
  filter: $('filter'),
  order: $('order'),
  pageSize: $('page-size'),
  refresh: $('refresh'),
  prev: $('prev-page'),
  next: $('next-page'),
  pageLabel: $('page-label'),
  error: $('list-error'),
  table: $('files'),
  rows: $('file-rows'),
  empty: $('empty'),
  noMatch: $('no-match'),
  rowTemplate: $('file-row'),
  renameTemplate: $('rename-form'),
}, announce);

const queue = new UploadQueue($('queue'), $('queue-item'), $('clear-finished'), announce,
  () => table.reload());

const picker = $('file-input');
picker.addEventListener('change', () => {
  queue.add([...picker.files]);
  picker.value = '';
});

// Files dropped anywhere on the page.
const overlay = $('drop-overlay');
let depth = 0;
const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
document.addEventListener('dragenter', (event) => {
  if (!hasFiles(event)) return;
  depth++;
  overlay.hidden = false;
});
document.addEventListener('dragleave', () => {
  depth = Math.max(0, depth - 1);
  if (depth === 0) overlay.hidden = true;
});
document.addEventListener('dragover', (event) => {
  if (hasFiles(event)) event.preventDefault();
});
document.addEventListener('drop', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  depth = 0;
  overlay.hidden = true;
  queue.add([...event.dataTransfer.files]);
});

const forget = $('forget-token');
const showForget = () => { forget.hidden = token() === ''; };
forget.addEventListener('click', forgetToken);
document.addEventListener('tokenchange', showForget);
showForget();

table.reload();
