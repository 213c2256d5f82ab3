'use strict';
// The live page. Every element is built with createElement and textContent: no value from
// the server is ever parsed as HTML.

const SVG = 'http://www.w3.org/2000/svg';

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function row(cells, attrs) {
  const tr = document.createElement('tr');
  for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, String(v));
  for (const c of cells) tr.appendChild(c);
  return tr;
}

function cell(text, className) {
  return el('td', className, text);
}

function replaceRows(tbody, rows) {
  while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
  for (const r of rows) tbody.appendChild(r);
}

const fmt = {
  count: (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US')),
  rate: (v) => (v === null || v === undefined ? '–' : v.toFixed(1) + '/s'),
  ms: (s) => (s === null || s === undefined ? '–' : (s * 1000).toFixed(1) + ' ms'),
  pct: (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(2) + ' %'),
  usd: (v) => (v === null || v === undefined ? '–' : '$' + (v >= 1 ? v.toFixed(2) : +v.toPrecision(3))),
  // A duration with the precision a bucket bound needs: 0.25 -> "250 ms", 2.56 -> "2.56 s".
  dur: (s) => (s < 1 ? +(s * 1000).toPrecision(3) + ' ms' : +s.toPrecision(3) + ' s'),
  // A percentile: its value, or, when the histogram bucket it fell in is too wide for the
  // value to be within 10 % (the server says which), the bucket: "≤ 250 ms (100 ms–250 ms)".
  p95: (s, bucket) => {
    if (s === null || s === undefined) return '–';
    if (!bucket) return fmt.ms(s);
    const lower = bucket.lower, upper = bucket.upper;
    if (upper === null || upper === undefined) return '> ' + fmt.dur(lower);
    if (!lower) return '≤ ' + fmt.dur(upper);
    return '≤ ' + fmt.dur(upper) + ' (' + fmt.dur(lower) + '–' + fmt.dur(upper) + ')';
  },
  ago: (ms) => {
    if (ms === null || ms === undefined) return '–';
    const s = Math.max(0, (Date.now() - ms) / 1000);
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  },
};

async function get(path) {
  const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw new Error(path + ' answered ' + response.status);
  return response.json();
}

// The smallest of 1, 2 or 5 times a power of ten at or above `v`: gridlines at round values.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5]) if (v <= m * power) return m * power;
  return 10 * power;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

// A line over time: x from the points' timestamps, y from 0 to a round maximum. The axis
// labels are HTML beside the drawing, since text inside a stretched SVG would be distorted.
function chart(id, points, key, format) {
  const svg = document.getElementById(id);
  const axis = document.getElementById(id + '-axis');
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const shown = points.filter((p) => p[key] !== null && p[key] !== undefined && p.t);
  const max = niceMax(Math.max(...shown.map((p) => p[key]), 0));
  for (const y of [1, 60, 119]) {
    const line = document.createElementNS(SVG, 'line');
    line.setAttribute('x1', '0'); line.setAttribute('x2', '400');
    line.setAttribute('y1', String(y)); line.setAttribute('y2', String(y));
    svg.appendChild(line);
  }
  axis.querySelector('.y-max').textContent = format(max);
  axis.querySelector('.y-mid').textContent = format(max / 2);
  axis.querySelector('.y-min').textContent = format(0);
  const first = shown[0];
  const last = shown[shown.length - 1];
  axis.querySelector('.x-start').textContent = first ? clock(first.t) : '';
  axis.querySelector('.x-end').textContent = last ? clock(last.t) : '';
  axis.querySelector('.last').textContent = last ? 'now ' + format(last[key]) : '';
  if (shown.length < 2) return;
  const span = Math.max(1, last.t - first.t);
  const coords = shown.map((p) =>
    ((p.t - first.t) / span * 400).toFixed(1) + ',' + (119 - (p[key] / max) * 118).toFixed(1));
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', coords.join(' '));
  svg.appendChild(line);
}

function renderSummary(s) {
  const points = s.points || [];
  const last = points[points.length - 1] || {};
  document.getElementById('requests-total').textContent = fmt.count(s.requests_total);
  document.getElementById('request-rate').textContent = fmt.rate(last.request_rate);
  document.getElementById('p95').textContent = fmt.p95(last.p95_seconds, last.p95_bucket);
  document.getElementById('error-rate').textContent = fmt.pct(last.error_rate);
  chart('chart-rate', points, 'request_rate', (v) => (v < 10 ? v.toFixed(1) : v.toFixed(0)) + '/s');
  chart('chart-p95', points, 'p95_seconds', (v) => (v * 1000).toFixed(0) + ' ms');
  chart('chart-errors', points, 'error_rate', (v) => (v * 100).toFixed(1) + ' %');
  const llm = (s.llm || []).map((m) =>
    row([cell(m.provider), cell(m.model), cell(fmt.count(m.calls), 'num'), cell(fmt.count(m.failed), 'num'),
      cell(fmt.p95(m.p95_seconds, m.p95_bucket), 'num'), cell(fmt.p95(m.ttft_p95_seconds, m.ttft_p95_bucket), 'num'),
      cell(fmt.count(m.input_tokens), 'num'), cell(fmt.count(m.output_tokens), 'num'),
      cell(fmt.count(m.usage_missing) + (m.usage_estimated ? ' (' + fmt.count(m.usage_estimated) + ' estimated)' : ''),
        m.usage_missing ? 'num warn' : 'num'),
      cell('$' + m.cost_usd.toFixed(4), 'num')],
      { 'data-model': m.provider + '/' + m.model }));
  replaceRows(document.querySelector('#llm-table tbody'), llm);
  const tenants = (s.top_tenants || []).map((t) =>
    row([cell(t.tenant), cell('$' + t.cost_usd.toFixed(4), 'num')], { 'data-tenant': t.tenant }));
  replaceRows(document.querySelector('#tenant-table tbody'), tenants);
  const agents = (s.agents || []).map((a) =>
    row([cell(a.agent), cell(fmt.count(a.runs), 'num'), cell(fmt.count(a.failed), 'num'),
      cell(fmt.p95(a.p95_seconds, a.p95_bucket), 'num'),
      cell(a.steps_p95 === null || a.steps_p95 === undefined ? '–' : a.steps_p95.toFixed(1), 'num'),
      cell(a.tool_calls ? fmt.pct(a.tool_errors / a.tool_calls) : '–', 'num'),
      cell(a.runs ? fmt.usd(a.cost_usd / a.runs) : '–', 'num'),
      cell(fmt.count(a.limit_exceeded), a.limit_exceeded ? 'num warn' : 'num')],
      { 'data-agent': a.agent }));
  replaceRows(document.querySelector('#agent-table tbody'), agents);
  const budgets = (s.budgets || []).map((b) =>
    row([cell(b.tenant), cell(b.period), cell(fmt.usd(b.budget_usd), 'num'),
      cell(fmt.usd(b.spent_usd) + ' (' + fmt.pct(b.budget_usd ? b.spent_usd / b.budget_usd : 0) + ')',
        b.spent_usd >= b.budget_usd ? 'num warn' : 'num'),
      cell(b.enforced ? fmt.usd(b.held_usd) : '–', 'num'),
      cell(b.enforced ? fmt.count(b.rejected) : '–', b.rejected ? 'num warn' : 'num'),
      cell(b.enforced ? 'reject' : 'observe'),
      cell(b.shared === true ? 'the fleet' : b.shared === false ? 'this process (store unreachable)' : "this process's spend since start",
        b.shared === false ? 'warn' : '')],
      { 'data-budget': b.tenant + ' ' + b.period }));
  replaceRows(document.querySelector('#budget-table tbody'), budgets);
}

const SCOPES = { fleet: 'fleet-wide', 'replica/fleet': "this replica's, over the fleet's users", replica: 'this replica' };

function renderKpis(k) {
  const rows = (k.kpis || []).map((kpi) => {
    const status = kpi.value !== null ? (kpi.met ? 'met' : 'missed')
      : kpi.display_value === 'unavailable' ? 'unavailable' : 'no data';
    const gap = kpi.gap === null ? '–' : (kpi.gap >= 0 ? '+' : '') + (kpi.gap * 100).toFixed(1) + ' %';
    const name = kpi.scope && kpi.scope !== 'replica' ? kpi.name + ' (' + SCOPES[kpi.scope] + ')' : kpi.name;
    return row(
      [cell(name), cell(kpi.display_value, 'num'), cell(kpi.display_target, 'num'), cell(gap, 'num'),
        cell(kpi.display_trend || 'no data', kpi.trend === null || kpi.trend === undefined ? 'nodata' : 'num'),
        cell(status, kpi.value === null ? 'nodata' : status)],
      { 'data-kpi': kpi.id, 'data-scope': kpi.scope || 'replica' },
    );
  });
  replaceRows(document.querySelector('#kpi-table tbody'), rows);
  const figures = k.figures || [];
  replaceRows(document.querySelector('#figure-table tbody'), figures.map((f) =>
    row([cell(f.name), cell(f.display_value, f.value === null ? 'nodata' : 'num'),
      cell(f.display_trend, f.trend === null ? 'nodata' : 'num')], { 'data-figure': f.id })));
  document.getElementById('figure-period').textContent = figures.length
    ? 'last ' + figures[0].period + ', trend against the ' + figures[0].period + ' before' : '';
  document.getElementById('kpi-met').textContent =
    k.evaluated_at ? 'targets met ' + k.met + '/' + k.total + ' · evaluated ' + fmt.ago(k.evaluated_at) : 'not evaluated yet';
  document.getElementById('instance').textContent = k.instance ? '· ' + k.instance : '';
  const users = k.users || {};
  document.getElementById('kpi-scope').textContent = !users.scope ? ''
    : users.available === false ? 'Distinct users are unavailable: ' + users.error
    : users.scope === 'fleet' ? "Distinct users are the fleet's (counted in Redis); every other figure is this replica's own."
    : "Every figure is this replica's own (distinct users counted in this process).";
}

function renderAlerts(a) {
  const rows = (a.rules || []).map((r) =>
    row([cell(r.title), cell(r.condition), cell(r.severity), cell(r.state, r.state), cell(fmt.ago(r.since))],
      { 'data-rule': r.name }));
  replaceRows(document.querySelector('#alert-table tbody'), rows);
  document.getElementById('alert-count').textContent =
    a.evaluated_at ? a.firing + ' firing of ' + a.total : 'not evaluated yet';
}

function renderTraces(t) {
  const an = t.analysis || {};
  document.getElementById('trace-summary').textContent = an.traces
    ? an.traces + ' traces · mean ' + an.mean_duration_ms.toFixed(1) + ' ms · ' + an.mean_spans.toFixed(1) + ' spans/trace'
    : 'no sampled trace yet';
  const ops = (an.operations || []).map((o) =>
    row([cell(o.operation), cell(o.spans, 'num'), cell(o.mean_ms.toFixed(1) + ' ms', 'num'),
      cell((o.share * 100).toFixed(0) + ' %', 'num')]));
  replaceRows(document.querySelector('#operation-table tbody'), ops);
  const box = document.getElementById('traces');
  while (box.firstChild) box.removeChild(box.firstChild);
  for (const trace of (t.traces || []).slice(0, 8)) {
    const div = el('div', 'trace');
    div.setAttribute('data-trace', trace.trace_id);
    const scores = (trace.scores || []).map((f) => f.kind + ' ' + f.score);
    if (scores.length) div.setAttribute('data-scores', scores.join(', '));
    div.appendChild(el('h3', null, trace.root + ' · ' + trace.duration_ms.toFixed(1) + ' ms · ' + trace.spans.length + ' spans'
      + (trace.cost_usd ? ' · LLM ' + fmt.usd(trace.cost_usd) : '')
      + (scores.length ? ' · feedback: ' + scores.join(', ') : '')));
    const total = trace.duration_ms || 1;
    for (const span of trace.spans) {
      const line = el('div', span.failed ? 'span failed' : 'span');
      // An agent run shows its spend: everything its steps and sub-agents spent.
      const agentCost = span.operation === 'Agent Run' && span.cost_usd !== null && span.cost_usd !== undefined;
      if (agentCost) line.setAttribute('data-cost', String(span.cost_usd));
      line.appendChild(el('span', 'name', span.name + (agentCost ? ' · ' + fmt.usd(span.cost_usd) : '')));
      const track = el('div', 'track');
      const bar = el('div', 'bar');
      bar.style.left = Math.min(100, (span.offset_ms / total) * 100).toFixed(2) + '%';
      bar.style.width = Math.max(0.3, (span.duration_ms / total) * 100).toFixed(2) + '%';
      bar.title = span.duration_ms.toFixed(2) + ' ms';
      track.appendChild(bar);
      line.appendChild(track);
      const attrs = Object.entries(span.attributes || {}).map(([k, v]) => k + '=' + v).join('  ');
      line.appendChild(el('span', 'attrs', span.duration_ms.toFixed(2) + ' ms  ' + attrs));
      div.appendChild(line);
    }
    box.appendChild(div);
  }
}

async function refresh() {
  const errors = [];
  const run = async (path, render) => {
    try { render(await get(path)); } catch (e) { errors.push(e.message); }
  };
  await Promise.all([
    run('/api/v1/summary', renderSummary),
    run('/api/v1/kpis', renderKpis),
    run('/api/v1/alerts', renderAlerts),
    run('/api/v1/traces', renderTraces),
  ]);
  document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString('en-GB');
  document.getElementById('error').textContent = errors.join('; ');
}

refresh();
setInterval(refresh, 2000);
