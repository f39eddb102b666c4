/**
 * The web dashboard's page, served from the package (no external assets). The script builds every
 * element with createElement/textContent: nothing from a session is ever parsed as HTML, and the
 * CSP (`default-src 'self'`) refuses inline script and any other origin.
 */

/** The HTML shell; `token` is ours (hex), needed to load the script and style. */
export function pageHtml(token: string): string {
  if (!/^[0-9a-f]+$/.test(token)) throw new Error('the dashboard token must be hex');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>parallel-cc dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/app.css?token=${token}"></head>
<body><header><h1>parallel-cc dashboard</h1><div id="fleet"></div><div id="conn"></div></header>
<section id="attention"></section>
<table id="sessions"><thead><tr><th>ID</th><th>Task</th><th>Agent/model</th><th>Provider</th><th>State</th><th>Step</th><th>Files</th><th>+/−</th><th>Commits</th><th>Tokens</th><th>Cost</th><th>Denied</th><th>Beat</th></tr></thead><tbody id="rows"></tbody></table>
<section id="detail" hidden></section>
<script src="/app.js?token=${token}"></script></body></html>
`;
}

/** The page's style. */
export const PAGE_CSS = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
header { padding: 8px 16px; background: #223; color: #eee; } h1 { font-size: 16px; margin: 0 0 4px; }
#attention div { background: #fff3cd; padding: 4px 16px; border-bottom: 1px solid #e6d9a8; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #ddd; white-space: nowrap; }
tbody tr { cursor: pointer; } tbody tr:hover, tr.selected { background: #e8eefc; }
td.state-running, td.state-initializing { color: #06c; } td.state-completed { color: #080; }
td.state-failed, td.state-timed_out, td.state-over_budget { color: #c00; } td.state-orphaned, td.state-stale { color: #a60; } td.state-killed { color: #909; }
td.step { max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
#detail { padding: 8px 16px; } #detail h2 { font-size: 14px; } pre { background: #fff; border: 1px solid #ddd; padding: 6px; overflow: auto; max-height: 420px; margin: 0; }
pre div.add { color: #080; } pre div.del { color: #c00; } pre div.hunk { color: #06c; } button { margin-right: 6px; }
`;

/** The page's script (runs in the browser). */
export const PAGE_JS = `(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('token') || '';
  function url(p) { return p + (p.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined && text !== null) e.textContent = String(text); return e; }
  function usd(n) { return '$' + Number(n).toFixed(4); }
  function dur(ms) { var s = Math.round(ms / 1000); if (s < 60) return s + 's'; var m = Math.floor(s / 60); return m < 60 ? m + 'm ' + (s % 60) + 's' : Math.floor(m / 60) + 'h ' + (m % 60) + 'm'; }
  var selected = null, lastState = {};
  function renderFleet(f) {
    var box = document.getElementById('fleet'); box.replaceChildren();
    var parts = [f.running + ' running', f.queued + ' queued', f.done + ' done', f.failed + ' failed', f.orphaned + ' orphaned', 'concurrency ' + f.concurrency,
      'providers ' + (Object.keys(f.providers).map(function (k) { return k + '×' + f.providers[k]; }).join(' ') || '-')];
    box.append(el('span', null, parts.join(' · ') + ' · spend '));
    var cost = el('span', null, usd(f.totalUsd)); cost.id = 'fleet-cost'; cost.dataset.usd = String(f.totalUsd); box.append(cost);
    box.append(el('span', null, ' (model ' + usd(f.modelUsd) + ' + sandbox ' + usd(f.sandboxUsd) + ')' + (f.budgetUsd === null ? '' : ' of ' + usd(f.budgetUsd) + ' budget') + (f.oldestRunningMs === null ? '' : ' · oldest running ' + dur(f.oldestRunningMs))));
  }
  // One row element per session, made once and updated in place: a row replaced on every update
  // would be detached under the user's mouse (a click between two updates would hit nothing).
  var rowEls = new Map();
  function cellsOf(r) {
    return [r.id, r.taskId || '-', r.agent + (r.model ? '/' + r.model : ''), r.provider, r.state + ' ' + dur(r.inStateMs), r.step || r.phase || '',
      r.filesChanged, r.added === null ? '-' : '+' + r.added + '/−' + r.removed, r.commits === null ? '-' : r.commits, r.inputTokens + '/' + r.outputTokens, usd(r.costUsd), r.egressDenied,
      r.heartbeatAgeMs === null ? '-' : dur(r.heartbeatAgeMs)];
  }
  function cellClass(i, r) { return i === 4 ? 'state state-' + r.state : i === 5 ? 'step' : i === 10 ? 'cost' : ''; }
  function markSelected() { rowEls.forEach(function (tr, id) { tr.classList.toggle('selected', id === selected); }); }
  function newRow(id) {
    var tr = el('tr'); tr.dataset.id = id;
    for (var i = 0; i < 13; i++) tr.append(el('td'));
    tr.addEventListener('click', function () { selected = id; markSelected(); loadDetail(id); });
    return tr;
  }
  function renderRows(rows) {
    var body = document.getElementById('rows'), shown = new Set();
    rows.forEach(function (r, n) {
      var tr = rowEls.get(r.id);
      if (!tr) { tr = newRow(r.id); rowEls.set(r.id, tr); }
      shown.add(r.id);
      if (tr.dataset.state !== r.state) tr.dataset.state = r.state;
      cellsOf(r).forEach(function (c, i) {
        var td = tr.children[i], text = String(c), cls = cellClass(i, r);
        // Only what changed is written: an unchanged cell is not touched at all.
        if (td.textContent !== text) td.textContent = text;
        if (td.className !== cls) td.className = cls;
        if (i === 10 && td.dataset.usd !== String(r.costUsd)) td.dataset.usd = String(r.costUsd);
      });
      // The model's order; a row is moved (the same node), only when it is not in its place already.
      if (body.children[n] !== tr) body.insertBefore(tr, body.children[n] || null);
    });
    rowEls.forEach(function (tr, id) { if (!shown.has(id)) { tr.remove(); rowEls.delete(id); } });
    markSelected();
  }
  function render(m) {
    renderFleet(m.fleet);
    var att = document.getElementById('attention'); att.replaceChildren();
    m.attention.forEach(function (a) { var d = el('div', 'attention', '! ' + (a.id || 'fleet') + ' ' + a.message); d.dataset.reason = a.reason; att.append(d); });
    renderRows(m.rows);
    m.rows.forEach(function (r) { if (r.id === selected && lastState[r.id] !== undefined && lastState[r.id] !== r.state) loadDetail(r.id); lastState[r.id] = r.state; });
  }
  function section(title, lines, cls) {
    var s = el('div'); s.append(el('h2', null, title)); var pre = el('pre'); if (cls) pre.id = cls;
    lines.forEach(function (l) { var k = typeof l === 'string' ? l : ''; var d = el('div', cls === 'diff' ? (k.indexOf('+') === 0 ? 'add' : k.indexOf('-') === 0 ? 'del' : k.indexOf('@@') === 0 ? 'hunk' : null) : null, k || ' '); pre.append(d); });
    s.append(pre); return s;
  }
  function action(id, verb) {
    fetch(url('/api/session/' + encodeURIComponent(id) + '/' + verb), { method: 'POST' }).then(function (r) { return r.json(); }).then(function (v) {
      var out = document.getElementById('action-result'); if (out) out.textContent = verb + ': ' + JSON.stringify(v);
    });
  }
  function loadDetail(id) {
    fetch(url('/api/session/' + encodeURIComponent(id))).then(function (r) { return r.json(); }).then(function (d) {
      if (selected !== id || d.error) return;
      var box = document.getElementById('detail'); box.hidden = false; box.replaceChildren(); box.dataset.id = id;
      box.append(el('h2', null, 'Session ' + id + ' — ' + d.row.state + (d.row.stateNote ? ' (' + d.row.stateNote + ')' : '')));
      box.append(el('div', null, 'branch ' + (d.row.branch || '-') + ' · worktree ' + (d.worktree || '-')));
      var bar = el('div');
      ['kill', 'download', 'reattach', 'merge-preview'].forEach(function (v) { var b = el('button', null, v); b.addEventListener('click', function () { action(id, v); }); bar.append(b); });
      box.append(bar); var res = el('div'); res.id = 'action-result'; box.append(res);
      box.append(el('div', null, 'overlaps: ' + (d.overlaps.map(function (o) { return 'with ' + o.sessionId + ' on ' + o.files.join(', '); }).join('; ') || 'none')));
      box.append(el('div', null, 'resources: ' + (d.resources ? JSON.stringify(d.resources) : 'not offered')));
      box.append(section('Commits', d.commits.map(function (c) { return c.sha + ' ' + c.subject; })));
      box.append(section('Diff vs base' + (d.diffTruncated ? ' (truncated)' : ''), d.diff, 'diff'));
      box.append(section('Events', d.tail.map(function (e) { return (e.ts || '').slice(11, 19) + ' ' + e.type + ' ' + e.text; })));
      box.append(section('Egress', d.egress.map(function (e) { return (e.ts || '').slice(11, 19) + ' ' + e.type + ' ' + e.text; })));
    });
  }
  var conn = document.getElementById('conn');
  var es = new EventSource(url('/api/events'));
  es.onmessage = function (e) { conn.textContent = 'live'; render(JSON.parse(e.data)); };
  es.onerror = function () { conn.textContent = 'reconnecting…'; };
})();
`;
