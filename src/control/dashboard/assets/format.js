// Numbers for people: 1.2 k/s, 3.4 MB/s, 2h 5m.

const SI = ['', ' k', ' M', ' G', ' T'];
const BYTES = [' B', ' kB', ' MB', ' GB', ' TB'];

/** `n` with one decimal below 10 and a unit prefix from `units` (1000 apart). */
function scaled(n, units) {
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const text =
    v === 0 ? '0' : v < 10 && (i > 0 || !Number.isInteger(v)) ? v.toFixed(1) : Math.round(v).toString();
  return `${n < 0 ? '-' : ''}${text}${units[i]}`;
}

/** A count: 950, 1.2 k, 34 M. */
export function count(n) {
  return scaled(n, SI);
}

/** A rate per second: 1.2 k/s. */
export function perSecond(n) {
  return `${scaled(n, SI)}/s`;
}

/** A byte count: 3.4 MB. */
export function bytes(n) {
  return scaled(n, BYTES);
}

/** A byte rate: 3.4 MB/s. */
export function bytesPerSecond(n) {
  return `${scaled(n, BYTES)}/s`;
}

/** A duration in seconds: 45s, 3m 4s, 2h 5m, 3d 4h. */
export function duration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A short span in ms: 250 ms, 1.5s above a second, then as {@link duration}. */
export function span(ms) {
  if (ms < 1000) return `${Math.ceil(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  return duration(ms / 1000);
}

/** A time of day from ms since the epoch, in the viewer's zone. */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString();
}

/** How long ago `ms` (since the epoch) was: "5s ago". */
export function ago(ms, now = Date.now()) {
  return `${duration(Math.max(0, (now - ms) / 1000))} ago`;
}
