// Modal dialogs: the token prompt and the delete confirmation.  Both are
// <dialog> elements of the page; their forms never submit anywhere.

import { shownName } from './format.js';

function byId(id) {
  return document.getElementById(id);
}

// Shows DIALOG and resolves with onSubmit()'s value when its form is
// submitted, or with null when it is cancelled (button or Escape).
function modal(dialog, form, cancelButton, onSubmit) {
  return new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener('submit', submit);
      cancelButton.removeEventListener('click', cancel);
      dialog.removeEventListener('close', cancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const submit = (event) => {
      event.preventDefault();
      done(onSubmit());
    };
    const cancel = () => done(null);
    form.addEventListener('submit', submit);
    cancelButton.addEventListener('click', cancel);
    dialog.addEventListener('close', cancel);
    dialog.showModal();
  });
}

// Resolves with the token typed, or null.
export function askToken(message) {
  const input = byId('token-input');
  byId('token-message').textContent = message;
  input.value = '';
  return modal(byId('token-dialog'), byId('token-form'), byId('token-cancel'),
    () => input.value.trim() || null);
}

// Resolves true when the user confirms.
export async function confirmDelete(name) {
  byId('confirm-message').textContent =
    `“${shownName(name)}” and its bytes are removed from the service. This cannot be undone.`;
  const ok = await modal(byId('confirm-dialog'), byId('confirm-form'),
    byId('confirm-cancel'), () => true);
  return ok === true;
}
