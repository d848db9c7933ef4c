// The Switchyard dashboard: one EventSource (`/api/stream`) feeds every view; changes go through
// the admin API's own routes. Text from the balancer (client names, errors) is only ever set as
// text, never parsed as HTML.
import { cssColor, drawChart } from './charts.js';
import { ago, bytes, bytesPerSecond, clock, count, duration, perSecond, span } from './format.js';

const TOKEN_KEY = 'switchyard.adminToken';
const BALANCERS = [
  'round-robin',
  'weighted-round-robin',
  'least-connections',
  'power-of-two',
  'random',
  'consistent-hash',
];
const REFUSAL_COLORS = ['--bad', '--warn', '--accent', '--violet', '--muted'];

const $ = (id) => document.getElementById(id);
let samples = [];
let intervalMs = 1000;
let windowMs = 300_000;
const MIN_WINDOW_MS = 30_000;
// An upstream's state buttons: the verb sent, its label, and the state in which it does nothing.
const UPSTREAM_ACTIONS = [
  ['drain', 'Drain', 'draining'],
  ['maintenance', 'Maintenance', 'maintenance'],
  ['ready', 'Ready', 'up'],
];

/** An element with attributes (`on*` functions become listeners) and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- the stream --------------------------------------------------------------------------------

function connect() {
  const source = new EventSource('/api/stream');
  source.addEventListener('open', () => setLink('live', 'live'));
  source.addEventListener('error', () => setLink('reconnecting…', 'down'));
  source.addEventListener('state', (e) => {
    const state = JSON.parse(e.data);
    intervalMs = state.intervalMs;
    windowMs = intervalMs * 300;
    samples = state.samples;
    apply(state);
  });
  source.addEventListener('tick', (e) => {
    const tick = JSON.parse(e.data);
    if (tick.sample) {
      samples.push(tick.sample);
      const cut = tick.sample.at - windowMs;
      while (samples.length > 0 && samples[0].at < cut) samples.shift();
    }
    apply(tick);
  });
}

function setLink(text, state) {
  const link = $('link');
  link.textContent = text;
  link.dataset.state = state;
}

function apply(state) {
  renderFacts(state.status);
  renderListeners(state.status);
  renderGroups(state.status);
  renderClients(state.clients, state.clientRefusals);
  if (state.events) renderEvents(state.events);
  renderCharts();
}

// ---- overview ----------------------------------------------------------------------------------

function renderFacts(s) {
  $('version').textContent = s.version;
  $('uptime').textContent = duration(s.uptime);
  $('sessions').textContent = count(s.sessions);
  if (s.workers) {
    $('workers-fact').hidden = false;
    const ready = s.workers.filter((w) => w.ready && !w.draining).length;
    $('workers').textContent = `${ready} of ${s.workers.length} ready`;
  }
  const r = s.lastReload;
  const reload = $('last-reload');
  reload.textContent = r === null ? 'none' : `${clock(Date.parse(r.at))} ${r.ok ? 'applied' : 'refused'}`;
  reload.title = r === null ? '' : r.ok ? r.changes.join('\n') || 'nothing changed' : r.error;
  reload.dataset.state = r === null ? '' : r.ok ? 'up' : 'down';

  let up = 0;
  let total = 0;
  const empty = [];
  for (const g of s.groups) {
    up += g.upstreamsUp;
    total += g.upstreams.length;
    if (g.upstreamsUp === 0) empty.push(g.name);
  }
  const listening = s.listeners.filter((l) => l.listening).length;
  const summary = $('health-summary');
  summary.textContent =
    `${listening} of ${s.listeners.length} listeners listening · ${up} of ${total} upstreams in rotation` +
    (empty.length > 0 ? ` · no upstream in rotation: ${empty.join(', ')}` : '') +
    (s.stopping ? ' · shutting down' : '');
  summary.dataset.state = empty.length > 0 || s.stopping ? 'down' : 'up';
}

function renderListeners(s) {
  fill(
    $('listeners').tBodies[0],
    s.listeners.map((l) => {
      const refused = Object.values(l.stats.rejections).reduce((a, b) => a + b, 0);
      const routes =
        l.group ?? (l.sniRoutes ? `SNI → ${l.sniRoutes.map((r) => r.group).join(', ')}` : 'by client org');
      return el(
        'tr',
        { 'data-listener': l.name },
        el('th', { scope: 'row' }, l.name),
        el('td', {}, l.kind),
        el('td', {}, l.address ?? `${l.bind} (not bound)`),
        el('td', {}, routes),
        el('td', { class: 'num' }, count(l.stats.active)),
        el('td', { class: 'num' }, count(l.stats.accepted)),
        el('td', { class: 'num' }, count(refused)),
      );
    }),
  );
}

// ---- groups and upstreams ----------------------------------------------------------------------

function upstreamState(u) {
  if (u.state !== 'up') return u.state;
  if (u.health.ejected) return 'ejected';
  if (!u.health.healthy) return 'down';
  if (u.health.slowStartUntil > Date.now()) return 'slow-start';
  return 'up';
}

function renderGroups(s) {
  const box = $('groups');
  // An open weight field or a focused control is not redrawn under the operator's hands.
  if (box.contains(document.activeElement) && document.activeElement.tagName !== 'BUTTON') return;
  const focusedId = document.activeElement?.id;
  box.replaceChildren(...s.groups.map(groupTable));
  if (focusedId) document.getElementById(focusedId)?.focus();
}

function groupTable(g) {
  const swapId = `balancer-${g.name}`;
  const select = el(
    'select',
    { id: swapId, name: 'balancer' },
    ...BALANCERS.map((b) => el('option', { value: b, selected: b === g.balancer }, b)),
  );
  const head = el(
    'div',
    { class: 'group-head' },
    el('h3', {}, g.name),
    el(
      'span',
      { class: 'badge', 'data-state': g.upstreamsUp > 0 ? 'up' : 'down' },
      `${g.upstreamsUp}/${g.upstreams.length} up`,
    ),
    el(
      'form',
      {
        class: 'inline',
        onsubmit: (e) => {
          e.preventDefault();
          swapBalancer(g.name, select.value, g.balancer);
        },
      },
      el('label', { for: swapId }, 'Balancer'),
      select,
      el('button', { type: 'submit', id: `swap-${g.name}` }, 'Swap'),
    ),
  );
  const rows = g.upstreams.map((u) => {
    const state = upstreamState(u);
    const key = `${g.name}/${u.id}`;
    // the last check's result, and when the checks last turned the upstream up or down
    const h = u.health;
    const since = h.lastChangeAt
      ? `${h.healthy ? 'up' : 'down'} for ${duration((Date.now() - h.lastChangeAt) / 1000)}`
      : h.lastCheckAt
        ? `checked ${ago(h.lastCheckAt)}`
        : '';
    const check = h.lastResult ? `${h.lastResult}${since ? ` · ${since}` : ''}` : '–';
    const weightId = `weight-${g.name}-${u.id}`;
    const weight = el('input', {
      id: weightId,
      type: 'number',
      min: '1',
      step: '1',
      value: u.weight,
      class: 'weight',
      'aria-label': `Weight of ${u.id}`,
    });
    return el(
      'tr',
      { 'data-upstream': key },
      el('th', { scope: 'row' }, u.id, el('div', { class: 'sub' }, u.address)),
      el('td', {}, el('span', { class: 'badge', 'data-field': 'state', 'data-state': state }, state)),
      el('td', { title: u.health.lastError ?? '' }, check),
      el('td', { class: 'num' }, count(u.active)),
      el('td', { class: 'num' }, count(u.total)),
      el('td', { class: 'num' }, `${bytes(u.bytesIn)} / ${bytes(u.bytesOut)}`),
      el('td', { class: 'num' }, count(u.failures)),
      el(
        'td',
        {},
        el(
          'form',
          {
            class: 'inline',
            onsubmit: (e) => {
              e.preventDefault();
              setWeight(g.name, u.id, Number(weight.value));
            },
          },
          weight,
          el('button', { type: 'submit' }, 'Set'),
        ),
      ),
      el(
        'td',
        {},
        el(
          'div',
          { class: 'actions' },
          ...UPSTREAM_ACTIONS.map(([action, label, state]) =>
            el(
              'button',
              {
                type: 'button',
                'data-action': action,
                disabled: u.state === state,
                onclick: () => setState(g.name, u.id, action),
              },
              label,
            ),
          ),
        ),
      ),
    );
  });
  return el(
    'div',
    { class: 'group', 'data-group': g.name },
    head,
    el(
      'div',
      { class: 'scroll' },
      el(
        'table',
        {},
        el('caption', { class: 'visually-hidden' }, `Upstreams of ${g.name}`),
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...[
              'Upstream',
              'State',
              'Last check',
              'Live',
              'Total',
              'Bytes in / out',
              'Failures',
              'Weight',
              'Actions',
            ].map((h) => el('th', { scope: 'col' }, h)),
          ),
        ),
        el('tbody', {}, ...rows),
      ),
    ),
  );
}

// ---- clients -----------------------------------------------------------------------------------

function renderClients(clients, refusalsKnown) {
  const note = $('clients-note');
  note.hidden = refusalsKnown;
  note.textContent = refusalsKnown
    ? ''
    : 'Refusals per client are not counted by this admin server: see /metrics for refusals by reason.';
  fill(
    $('clients').tBodies[0],
    clients.length === 0
      ? [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'no client connected'))]
      : clients.map((c) =>
          el(
            'tr',
            { 'data-client': c.id },
            el('th', { scope: 'row' }, c.id),
            el('td', {}, c.org || '–'),
            el('td', { class: 'num' }, count(c.connections)),
            el('td', { class: 'num' }, bytes(c.bytesFromClient)),
            el('td', { class: 'num' }, bytes(c.bytesToClient)),
            el('td', { class: 'num' }, c.refusals === null ? '–' : count(c.refusals)),
          ),
        ),
  );
}

async function showClient(id) {
  const box = $('client-detail');
  const res = await fetch(`/api/clients/${encodeURIComponent(id)}`);
  const body = await res.json();
  if (!res.ok) {
    box.replaceChildren(el('p', { class: 'error' }, `${body.error.code}: ${body.error.message}`));
    return;
  }
  box.replaceChildren(
    el('h3', {}, body.id, body.org ? ` (${body.org})` : ''),
    el(
      'p',
      {},
      `${count(body.connections)} live connections · ${bytes(body.bytesFromClient)} from, ${bytes(body.bytesToClient)} to the client`,
    ),
    el('p', { class: 'limits', 'data-limits': '' }, limitsText(body.limits)),
    body.sessions.length === 0
      ? el('p', { class: 'empty' }, 'no live connection')
      : el(
          'ul',
          {},
          ...body.sessions.map((s) =>
            el(
              'li',
              {},
              `${s.listener} → ${s.group}/${s.upstream || '…'} from ${s.clientAddress}:${s.clientPort}, ${s.phase}, ${duration(s.ageMs / 1000)}`,
            ),
          ),
        ),
    body.recentRefusals === null
      ? el('p', { class: 'empty' }, 'refusals per client are not counted here')
      : body.recentRefusals.length === 0
        ? el('p', { class: 'empty' }, 'no recent refusal')
        : el(
            'ul',
            {},
            ...body.recentRefusals
              .slice()
              .reverse()
              .map((r) => el('li', {}, `${clock(r.at)} ${r.code} on ${r.listener}`)),
          ),
  );
}

/** One client's limits in words: what its next connections will meet. */
function limitsText(limits) {
  if (!limits) return 'limits: not known here';
  if (limits.error) return `limits: could not be read (${limits.error})`;
  const parts = [];
  const r = limits.rate;
  if (r) {
    const left =
      r.remaining > 0 ? `${count(r.remaining)} left now` : `none left, next in ${span(r.retryAfter)}`;
    parts.push(
      `rate limit ${r.algorithm} ${count(r.limit)} per ${span(r.window)} (burst ${count(r.burst)}): ${left}`,
    );
  } else {
    parts.push('no rate limit');
  }
  const c = limits.concurrency;
  parts.push(
    c
      ? `concurrency ${count(c.used)} of ${c.limit === null ? '?' : count(c.limit)} in use`
      : 'no concurrency cap',
  );
  return parts.join(' · ');
}

// ---- events ------------------------------------------------------------------------------------

function renderEvents(events) {
  fill(
    $('events'),
    events.length === 0
      ? [el('li', { class: 'empty' }, 'nothing yet')]
      : events.map((e) =>
          el(
            'li',
            { 'data-kind': e.kind, 'data-state': e.bad ? 'down' : '' },
            el('time', { datetime: new Date(e.at).toISOString() }, clock(e.at)),
            ' ',
            e.message,
          ),
        ),
  );
}

// ---- charts ------------------------------------------------------------------------------------

function renderCharts() {
  $('charts').dataset.samples = String(samples.length);
  const times = samples.map((s) => s.at);
  const end = times.length > 0 ? times[times.length - 1] : Date.now();
  // A short history fills the chart (from 30 s up) rather than a sliver at the right of 5 minutes.
  const shown = times.length > 0 ? Math.min(windowMs, Math.max(MIN_WINDOW_MS, end - times[0])) : windowMs;
  const opts = (format) => ({ windowMs: shown, end, format, label: `last ${duration(shown / 1000)}` });
  const last = samples[samples.length - 1];
  drawChart(
    $('chart-connections'),
    times,
    [{ values: samples.map((s) => s.connections), color: cssColor('--accent') }],
    opts(perSecond),
  );
  drawChart(
    $('chart-active'),
    times,
    [{ values: samples.map((s) => s.active), color: cssColor('--accent') }],
    opts(count),
  );
  drawChart(
    $('chart-throughput'),
    times,
    [
      { values: samples.map((s) => s.bytesIn), color: cssColor('--accent') },
      { values: samples.map((s) => s.bytesOut), color: cssColor('--violet') },
    ],
    opts(bytesPerSecond),
  );
  const codes = new Map();
  for (const s of samples)
    for (const [code, r] of Object.entries(s.refusals)) codes.set(code, (codes.get(code) ?? 0) + r);
  const top = [...codes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, REFUSAL_COLORS.length)
    .map(([c]) => c);
  drawChart(
    $('chart-refusals'),
    times,
    top.map((code, i) => ({
      values: samples.map((s) => s.refusals[code] ?? 0),
      color: cssColor(REFUSAL_COLORS[i]),
    })),
    opts(perSecond),
  );
  fill(
    $('refusal-legend'),
    top.length === 0
      ? ['none in the last 5 minutes']
      : top.map((code, i) =>
          el(
            'span',
            { class: 'legend-item' },
            el('span', { class: 'key', style: undefined, 'data-color': REFUSAL_COLORS[i] }),
            code,
          ),
        ),
  );
  for (const key of $('refusal-legend').querySelectorAll('.key'))
    key.style.background = cssColor(key.dataset.color);
  $('now-connections').textContent = last ? perSecond(last.connections) : '–';
  $('now-active').textContent = last ? count(last.active) : '–';
  $('now-throughput').textContent = last
    ? `${bytesPerSecond(last.bytesIn)} in · ${bytesPerSecond(last.bytesOut)} out`
    : '–';
  $('now-refusals').textContent = last
    ? perSecond(Object.values(last.refusals).reduce((a, b) => a + b, 0))
    : '–';
}

// ---- actions -----------------------------------------------------------------------------------

function notice(text, kind) {
  const n = $('notice');
  n.textContent = text;
  n.dataset.state = kind;
  n.hidden = false;
}

function ask(dialog) {
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

async function confirmed(text) {
  $('confirm-text').textContent = text;
  return ask($('confirm'));
}

async function askToken() {
  $('token').value = '';
  if (!(await ask($('token-dialog')))) return false;
  const token = $('token').value.trim();
  if (token === '') return false;
  sessionStorage.setItem(TOKEN_KEY, token);
  return true;
}

/** Sends one change; on 401 asks for the token once and sends it again. Shows the API's own error. */
async function change(what, method, path, body) {
  if (!(await confirmed(what))) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = { 'Content-Type': 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      notice(`${what}: the balancer did not answer (${err.message})`, 'down');
      return;
    }
    const reply = await res.json().catch(() => ({}));
    if (res.ok) {
      notice(
        `${what}: done${reply.changes ? ` (${reply.changes.length === 0 ? 'nothing changed' : reply.changes.join('; ')})` : ''}`,
        'up',
      );
      return;
    }
    const error = reply.error ?? { code: `HTTP ${res.status}`, message: res.statusText };
    notice(`${what} refused: ${error.code}: ${error.message}`, 'down');
    if (res.status !== 401 || attempt > 0) return;
    sessionStorage.removeItem(TOKEN_KEY);
    if (!(await askToken())) return;
  }
}

const upstreamPath = (group, id) =>
  `/api/groups/${encodeURIComponent(group)}/upstreams/${encodeURIComponent(id)}`;

function setState(group, id, verb) {
  const words = { drain: 'Drain', maintenance: 'Put in maintenance', ready: 'Put back in rotation' };
  return change(`${words[verb]} ${group}/${id}`, 'POST', `${upstreamPath(group, id)}/${verb}`);
}

function setWeight(group, id, weight) {
  return change(`Set the weight of ${group}/${id} to ${weight}`, 'PUT', `${upstreamPath(group, id)}/weight`, {
    weight,
  });
}

function swapBalancer(group, balancer, current) {
  if (balancer === current) {
    notice(`${group} already uses ${balancer}`, '');
    return;
  }
  return change(
    `Swap the balancer of ${group} from ${current} to ${balancer}`,
    'PUT',
    `/api/groups/${encodeURIComponent(group)}/balancer`,
    { balancer },
  );
}

$('reload').addEventListener('click', () => change('Reload the configuration', 'POST', '/api/reload'));
$('client-search').addEventListener('submit', (e) => {
  e.preventDefault();
  void showClient($('client-id').value.trim());
});
// Relative times ("5s ago") and the chart window move on even between ticks.
window.addEventListener('resize', renderCharts);
connect();
