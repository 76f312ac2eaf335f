// Numbers and times as people read them.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function humanSize(bytes) {
  let n = Number(bytes);
  let u = 0;
  while (n >= 1024 && u < UNITS.length - 1) {
    n /= 1024;
    u++;
  }
  const digits = u === 0 || n >= 100 ? 0 : 1;
  return `${n.toFixed(digits)} ${UNITS[u]}`;
}

export function humanSpeed(bytesPerSecond) {
  return `${humanSize(bytesPerSecond)}/s`;
}

export function humanDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function humanTime(rfc3339) {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function shortHash(hash) {
  return `${hash.slice(0, 12)}…`;
}

// A stored name as text to show: bidi controls (which would reorder what
// follows them, e.g. "txt.exe" shown as "exe.txt") and other control
// characters become visible escapes.  The name itself is never changed.
const HIDDEN = /[\u0000-\u001f\u007f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function shownName(name) {
  return String(name).replace(HIDDEN, (c) =>
    `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

// The name a shownName text stands for: its escapes of those characters
// (and only of those) turned back.
export function keptName(text) {
  return text.replace(/\[U\+([0-9A-F]{4})\]/g, (escape, hex) => {
    const c = String.fromCodePoint(parseInt(hex, 16));
    return new RegExp(HIDDEN.source, 'u').test(c) ? c : escape;
  });
}
