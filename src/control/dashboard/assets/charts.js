// A small line chart on a canvas: a few series over a fixed time window, drawn again on each tick.
// Hand-written rather than a library: four charts of at most 300 points need about a hundred lines.

/** The colour of CSS custom property `name` on the page (so charts follow light and dark). */
export function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * Draws `series` ([{ values, color }], values parallel to `times`, ms since the epoch) over the
 * `windowMs` before `end`, with the largest value labelled by `format` and the span by `label`.
 */
export function drawChart(canvas, times, series, { windowMs, end, format, label }) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);

  let max = 0;
  for (const s of series) for (const v of s.values) if (v > max) max = v;
  const top = max > 0 ? niceCeiling(max) : 1;
  const pad = { left: 4, right: 4, top: 16, bottom: 4 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const start = end - windowMs;
  const x = (t) => pad.left + ((t - start) / windowMs) * plotW;
  const y = (v) => pad.top + plotH - (v / top) * plotH;

  g.strokeStyle = cssColor('--grid');
  g.lineWidth = 1;
  g.beginPath();
  for (const f of [0, 0.5, 1]) {
    const yy = Math.round(pad.top + plotH * f) + 0.5;
    g.moveTo(pad.left, yy);
    g.lineTo(width - pad.right, yy);
  }
  g.stroke();
  g.fillStyle = cssColor('--muted');
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'top';
  g.fillText(format(top), pad.left + 2, 1);
  if (label) {
    g.textAlign = 'right';
    g.fillText(label, width - pad.right - 2, 1);
    g.textAlign = 'left';
  }

  for (const s of series) {
    g.strokeStyle = s.color;
    g.lineWidth = 1.5;
    g.beginPath();
    let drawing = false;
    let lastT = 0;
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      if (t < start) continue;
      // a gap (nobody watched) breaks the line instead of joining across it
      const jump = drawing && t - lastT > 5000;
      if (!drawing || jump) g.moveTo(x(t), y(s.values[i]));
      else g.lineTo(x(t), y(s.values[i]));
      drawing = true;
      lastT = t;
    }
    g.stroke();
  }
}

// 1, 2 or 5 times a power of ten, at or above `v`: an axis label people read at a glance.
function niceCeiling(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
