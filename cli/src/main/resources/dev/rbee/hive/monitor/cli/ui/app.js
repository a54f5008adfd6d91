// The live page of rbee-mon serve: one EventSource on /v1/heartbeats/stream feeds the table and
// the sparklines (SVG polylines: no charting library, nothing fetched from elsewhere).
'use strict';
(function () {
  const HISTORY = 300;               // points per series: 5 minutes at the default 1 s interval
  const W = 160, H = 32;             // sparkline viewBox
  const SVG = 'http://www.w3.org/2000/svg';
  const control = document.querySelector('meta[name="rbee-control"]').content; // off | loopback | token
  const workers = new Map();         // "group/instance" -> entry
  const node = { cpu: [], mem: [], memMax: 0 };
  const $ = (id) => document.getElementById(id);
  let tick = 0;                      // heartbeats received: the x axis of every series

  if (control === 'off') $('action-col').textContent = 'Action (control off)';
  if (control === 'token') $('token-box').hidden = false;

  function setText(el, v) { if (el.textContent !== v) el.textContent = v; }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function spark() {
    const s = document.createElementNS(SVG, 'svg');
    s.setAttribute('class', 'spark');
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    s.setAttribute('aria-hidden', 'true');
    s.appendChild(document.createElementNS(SVG, 'polyline'));
    return s;
  }
  function push(series, v) {
    series.push({ t: tick, v: v });
    while (series.length && series[0].t <= tick - HISTORY) series.shift();
  }
  // Draws series (values 0..max) and vertical marks at the ticks in marks.  The x axis spans what
  // the page has seen (at least 30 heartbeats, at most HISTORY), the same for every chart.
  function draw(svg, series, max, marks) {
    const span = Math.min(HISTORY - 1, Math.max(30, tick - 1));
    const pts = [];
    for (const p of series) {
      if (p.v === null || tick - p.t > span) continue;
      const x = W - (tick - p.t) * (W / span);
      const y = H - 1 - Math.min(p.v / (max || 1), 1) * (H - 2);
      pts.push(x.toFixed(1) + ',' + y.toFixed(1));
    }
    svg.querySelector('polyline').setAttribute('points', pts.join(' '));
    svg.setAttribute('data-points', String(pts.length));
    for (const old of svg.querySelectorAll('line.mark')) old.remove();
    for (const t of marks || []) {
      if (tick - t > span) continue;
      const x = (W - (tick - t) * (W / span)).toFixed(1);
      const l = document.createElementNS(SVG, 'line');
      l.setAttribute('class', 'mark');
      l.setAttribute('x1', x); l.setAttribute('x2', x); l.setAttribute('y1', '0'); l.setAttribute('y2', String(H));
      svg.appendChild(l);
    }
  }
  function uptime(s) {
    if (s === undefined) return '–';
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m ? m + 'm ' + (s % 60) + 's' : s + 's';
  }
  function mib(v) { return v >= 1024 ? (v / 1024).toFixed(2) + ' GiB' : v.toFixed(1) + ' MiB'; }
  function logEvent(text, bad) {
    const li = el('li', bad ? 'bad' : '', new Date().toLocaleTimeString() + ' ' + text);
    $('events').prepend(li);
    while ($('events').children.length > 100) $('events').lastChild.remove();
  }

  function newRow(key) {
    const tr = el('tr');
    tr.dataset.worker = key;
    const e = { key: key, tr: tr, cpu: [], mem: [], marks: [], state: 'running', oom: 0, pid: 0, exits: 0 };
    const name = el('th', '', key); name.scope = 'row';
    e.pidCell = el('td', 'num'); e.model = el('td'); e.up = el('td', 'num');
    e.stateCell = el('td'); e.stateText = el('span', 'state', 'running'); e.stateCell.append(e.stateText);
    e.cpuCell = el('td'); e.cpuText = el('span', 'figure'); e.cpuChart = spark();
    const c1 = el('div', 'cell'); c1.append(e.cpuText, e.cpuChart); e.cpuCell.append(c1);
    e.memCell = el('td'); e.memText = el('span', 'figure'); e.memChart = spark();
    const c2 = el('div', 'cell'); c2.append(e.memText, e.memChart); e.memCell.append(c2);
    e.events = el('td', '', 'none');
    e.action = el('td');
    if (control !== 'off') {
      const b = el('button', '', 'Stop');
      b.type = 'button';
      b.dataset.stop = key;
      b.setAttribute('aria-label', 'Stop ' + key);
      b.addEventListener('click', () => stop(e, b));
      e.button = b;
      e.action.append(b);
    } else {
      e.action.textContent = 'read-only';
    }
    tr.append(name, e.pidCell, e.model, e.up, e.stateCell, e.cpuCell, e.memCell, e.events, e.action);
    $('workers').append(tr);
    $('empty').hidden = true;
    workers.set(key, e);
    return e;
  }

  function eventsText(e) {
    const parts = [];
    if (e.oom) parts.push(e.oom + ' OOM kill' + (e.oom > 1 ? 's' : ''));
    if (e.exits) parts.push('exited');
    return parts.length ? parts.join(', ') : 'none';
  }

  function updateWorker(w) {
    const key = w.group + '/' + w.instance;
    let e = workers.get(key);
    if (!e) e = newRow(key);
    if (e.state === 'exited') {      // the same name started again
      e.state = 'running';
      e.tr.classList.remove('exited');
      logEvent(key + ' running again (pid ' + w.pid + ')', false);
    }
    e.pid = w.pid;
    setText(e.pidCell, String(w.pid));
    setText(e.model, w.model || '–');
    setText(e.up, uptime(w.uptime_s));
    setText(e.stateText, w.state);
    const why = w.absent || {};
    const cpu = w.cpu_pct;
    push(e.cpu, cpu === undefined ? null : cpu);
    setText(e.cpuText, cpu === undefined ? 'n/a: ' + (why.cpu_pct || 'not given') : cpu.toFixed(1) + ' %');
    const cores = Math.max(100, ...e.cpu.map((p) => p.v || 0));
    draw(e.cpuChart, e.cpu, cores, e.marks);
    // Memory against memory.max: memory.current is what the limit counts (page cache included).
    const mem = w.memory_current_mb !== undefined ? w.memory_current_mb : w.rss_mb;
    push(e.mem, mem === undefined ? null : mem);
    const max = w.memory_max_mb;
    if (mem === undefined) {
      setText(e.memText, 'n/a: ' + (why.memory_current_mb || why.rss_mb || 'not given'));
    } else {
      setText(e.memText, mib(mem) + (max !== undefined ? ' of ' + mib(max) + ' (' + (100 * mem / max).toFixed(0) + ' %)' : ''));
    }
    draw(e.memChart, e.mem, max !== undefined ? max : Math.max(1, ...e.mem.map((p) => p.v || 0)), e.marks);
    const oom = w.oom_kills || 0;
    if (oom > e.oom) {
      e.marks.push(tick);
      logEvent(key + ': OOM kill (' + oom + ' in all)', true);
      e.oom = oom;
    }
    setText(e.events, eventsText(e));
  }

  function exited(e) {
    e.state = 'exited';
    e.exits++;
    e.marks.push(tick);
    e.tr.classList.add('exited');
    setText(e.stateText, 'exited');
    setText(e.up, '–');
    setText(e.cpuText, '–');
    setText(e.memText, '–');
    setText(e.events, eventsText(e));
    if (e.button) e.button.disabled = true;
    draw(e.cpuChart, e.cpu, Math.max(100, ...e.cpu.map((p) => p.v || 0)), e.marks);
    logEvent(e.key + ' exited', true);
  }

  function update(t) {
    tick++;
    const n = t.node || {};
    push(node.cpu, n.cpu_pct === undefined ? null : n.cpu_pct);
    push(node.mem, n.ram_used_mb === undefined ? null : n.ram_used_mb);
    setText($('node-cpu'), n.cpu_pct === undefined ? 'n/a' : n.cpu_pct.toFixed(1) + ' %');
    setText($('node-mem'), n.ram_used_mb === undefined ? 'n/a'
      : mib(n.ram_used_mb) + (n.ram_total_mb ? ' of ' + mib(n.ram_total_mb) : ''));
    draw($('node-cpu-chart'), node.cpu, 100, []);
    draw($('node-mem-chart'), node.mem, n.ram_total_mb || 1, []);
    setText($('node-workers'), String(t.workers.length));
    setText($('node-ts'), new Date(t.ts).toLocaleTimeString());
    const seen = new Set();
    for (const w of t.workers) {
      seen.add(w.group + '/' + w.instance);
      updateWorker(w);
    }
    for (const e of workers.values()) {
      if (e.state === 'exited') {
        push(e.cpu, null); push(e.mem, null);
      } else if (!seen.has(e.key)) {
        exited(e);
      }
    }
  }

  async function stop(e, b) {
    // Two steps, so that one stray click or key press stops nothing.
    if (!b.classList.contains('confirm')) {
      b.classList.add('confirm');
      b.textContent = 'Confirm stop';
      setTimeout(() => { b.classList.remove('confirm'); b.textContent = 'Stop'; }, 5000);
      return;
    }
    b.disabled = true;
    b.textContent = 'Stopping…';
    const headers = {};
    if (control === 'token') headers.Authorization = 'Bearer ' + $('token').value;
    const [group, instance] = e.key.split('/');
    try {
      const r = await fetch('/v1/workers/' + encodeURIComponent(group) + '/' + encodeURIComponent(instance) + '/stop',
        { method: 'POST', headers: headers });
      const body = await r.text();
      if (r.ok) {
        const rep = JSON.parse(body);
        const how = rep.exit_code !== undefined ? 'exit code ' + rep.exit_code : rep.signal !== undefined ? 'signal ' + rep.signal : 'ended';
        setText($('status'), 'stopped ' + e.key + ': ' + how);
        logEvent(e.key + ' stopped: ' + how, false);
      } else {
        setText($('status'), 'stop of ' + e.key + ' refused (' + r.status + '): ' + body.trim());
        b.disabled = false;
      }
    } catch (err) {
      setText($('status'), 'stop of ' + e.key + ' failed: ' + err.message);
      b.disabled = false;
    }
    b.classList.remove('confirm');
    b.textContent = 'Stop';
  }

  function connect() {
    // EventSource reconnects by itself and sends Last-Event-ID: the server replays what we missed.
    const es = new EventSource('/v1/heartbeats/stream');
    es.onopen = () => { $('status').className = ''; setText($('status'), 'live'); };
    es.onmessage = (m) => update(JSON.parse(m.data));
    es.addEventListener('lost', (m) => {
      const d = JSON.parse(m.data);
      logEvent(d.missed !== undefined ? 'missed ' + d.missed + ' updates while disconnected' : d.reason, true);
    });
    es.addEventListener('shutdown', () => logEvent('the server is shutting down', true));
    es.onerror = () => { $('status').className = 'down'; setText($('status'), 'disconnected: reconnecting…'); };
  }
  connect();
})();
