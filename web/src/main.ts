// SPDX-License-Identifier: Apache-2.0
// Sentinel's browser editor: pick a language, write a program, run it, watch its output arrive.
import './style.css';
import { api, ApiError, apiKey, FINAL, setApiKey, type Language, type LimitSet, type PageConfig, type Submission } from './api';
import { createEditor, monaco } from './editor';
import { parseDiagnostics } from './markers';
import { MONACO_LANGUAGE, starterFor } from './starters';
import { follow, type Transport } from './stream';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const ui = {
  language: $<HTMLSelectElement>('language'),
  run: $<HTMLButtonElement>('run'),
  share: $<HTMLAnchorElement>('share'),
  copy: $<HTMLButtonElement>('copy'),
  banner: $<HTMLDivElement>('banner'),
  editor: $<HTMLDivElement>('editor'),
  stdin: $<HTMLTextAreaElement>('stdin'),
  output: $<HTMLElement>('output'),
  status: $<HTMLSpanElement>('status'),
  badge: $<HTMLSpanElement>('badge'),
  transport: $<HTMLSpanElement>('transport'),
  stats: $<HTMLDListElement>('stats'),
  compile: $<HTMLPreElement>('compile'),
  out: $<HTMLPreElement>('out'),
  historyList: $<HTMLUListElement>('history-list'),
  historyRefresh: $<HTMLButtonElement>('history-refresh'),
  limits: $<HTMLFormElement>('limits'),
  keyForm: $<HTMLFormElement>('key-form'),
  key: $<HTMLInputElement>('api-key'),
};

const DRAFT_KEY = (lang: string) => `sentinel:draft:${lang}`;
const LANG_KEY = 'sentinel:language';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIMIT_FIELDS: (keyof LimitSet)[] = ['cpu_time', 'wall_time', 'memory', 'pids', 'output'];

let cfg: PageConfig;
let languages: Language[] = [];
let editor: monaco.editor.IStandaloneCodeEditor;
let current = '';
let programmatic = false; // setValue() from a loaded submission: not the user's draft
let stopFollowing: (() => void) | null = null;
let draftTimer: number | undefined;

/* ---- small helpers --------------------------------------------------------------------------- */

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: drafts are simply not kept
  }
}

function showBanner(text: string, kind: 'error' | 'info' = 'error'): void {
  ui.banner.textContent = text;
  ui.banner.dataset.kind = kind;
  ui.banner.hidden = false;
}

/** An error for the user; a 401 also opens the API key form. */
function showError(e: unknown): void {
  const err = e instanceof ApiError ? e : new ApiError(String(e), 0, 'internal');
  showBanner(err.message);
  if (err.status === 401) {
    ui.keyForm.hidden = false;
    ui.key.value = apiKey() ?? '';
    ui.key.focus();
  }
}

function hideBanner(): void {
  ui.banner.hidden = true;
  ui.banner.textContent = '';
}

function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(2)} s`;
}

function memory(kib: number | null | undefined): string {
  if (kib === null || kib === undefined) return '–';
  return kib < 1024 ? `${kib} KiB` : `${(kib / 1024).toFixed(1)} MiB`;
}

const STATUS_WORDS: Record<string, string> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  ACCEPTED: 'Accepted',
  WRONG_ANSWER: 'Wrong answer',
  COMPILE_ERROR: 'Compile error',
  RUNTIME_ERROR: 'Runtime error',
  TIME_LIMIT_EXCEEDED: 'Time limit exceeded',
  MEMORY_LIMIT_EXCEEDED: 'Memory limit exceeded',
  OUTPUT_LIMIT_EXCEEDED: 'Output limit exceeded',
  SECURITY_VIOLATION: 'Security violation',
  INTERNAL_ERROR: 'Internal error',
};

const words = (status: string): string => STATUS_WORDS[status] ?? status;

/* ---- drafts and languages -------------------------------------------------------------------- */

function saveDraft(): void {
  const s = storage();
  if (!s || !current) return;
  const text = editor.getValue();
  if (text === starterFor(current)) s.removeItem(DRAFT_KEY(current));
  else s.setItem(DRAFT_KEY(current), text);
}

function setProgram(lang: string, text: string, fromSubmission: boolean): void {
  current = lang;
  ui.language.value = lang;
  const model = editor.getModel();
  if (!model) return;
  monaco.editor.setModelLanguage(model, MONACO_LANGUAGE[lang] ?? 'plaintext');
  monaco.editor.setModelMarkers(model, 'sentinel', []);
  programmatic = fromSubmission;
  editor.setValue(text);
  programmatic = false;
}

function switchLanguage(lang: string): void {
  clearTimeout(draftTimer);
  saveDraft();
  storage()?.setItem(LANG_KEY, lang);
  setProgram(lang, storage()?.getItem(DRAFT_KEY(lang)) ?? starterFor(lang), false);
}

/* ---- the output panel ------------------------------------------------------------------------ */

function resetOutput(): void {
  ui.out.replaceChildren();
  ui.compile.hidden = true;
  ui.compile.textContent = '';
  ui.stats.hidden = true;
  ui.stats.replaceChildren();
  ui.badge.hidden = true;
  ui.badge.textContent = '';
  ui.badge.className = 'badge';
}

function appendOutput(stream: 'stdout' | 'stderr', data: string): void {
  if (!data) return;
  const last = ui.out.lastElementChild as HTMLElement | null;
  if (last && last.dataset.stream === stream) last.append(data);
  else {
    const span = document.createElement('span');
    span.className = stream;
    span.dataset.stream = stream;
    if (stream === 'stderr') span.title = 'stderr';
    span.textContent = data;
    ui.out.append(span);
  }
  const o = ui.out;
  if (o.scrollHeight - o.scrollTop - o.clientHeight < 80) o.scrollTop = o.scrollHeight;
}

function setStatus(status: string, phase?: string): void {
  let text = words(status);
  if (status === 'RUNNING' && phase === 'compiling') text = 'Compiling';
  ui.status.textContent = text;
  ui.output.dataset.status = status;
}

function setTransport(kind: Transport | ''): void {
  const text: Record<string, string> = {
    connecting: 'connecting…',
    websocket: 'live',
    reconnecting: 'reconnecting…',
    polling: 'live output unavailable: checking every few seconds',
  };
  ui.transport.textContent = kind ? text[kind] : '';
  ui.transport.dataset.transport = kind;
}

function addStat(name: string, value: string, key: string): void {
  const dt = document.createElement('dt');
  dt.textContent = name;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dd.dataset.stat = key;
  ui.stats.append(dt, dd);
}

function verdictClass(status: string): string {
  if (status === 'ACCEPTED') return 'ok';
  if (status.endsWith('LIMIT_EXCEEDED')) return 'limit';
  return 'bad';
}

function markLines(text: string): void {
  const model = editor.getModel();
  if (!model) return;
  const diags = parseDiagnostics(text, model.getLineCount());
  monaco.editor.setModelMarkers(
    model,
    'sentinel',
    diags.map((d) => ({
      startLineNumber: d.line,
      startColumn: d.column,
      endLineNumber: d.line,
      endColumn: model.getLineMaxColumn(d.line),
      message: d.message,
      severity: d.severity === 'warning' ? monaco.MarkerSeverity.Warning : monaco.MarkerSeverity.Error,
    })),
  );
  const first = diags.find((d) => d.severity === 'error');
  ui.output.dataset.markedLine = first ? String(first.line) : '';
  if (first) editor.revealLineInCenterIfOutsideViewport(first.line);
}

function showResult(sub: Submission, replaceOutput: boolean): void {
  if (replaceOutput) {
    ui.out.replaceChildren();
    appendOutput('stdout', sub.stdout ?? '');
    appendOutput('stderr', sub.stderr ?? '');
  }
  setStatus(sub.status);
  ui.badge.textContent = words(sub.status);
  ui.badge.className = `badge ${verdictClass(sub.status)}`;
  ui.badge.hidden = false;
  ui.stats.replaceChildren();
  if (sub.signal !== null && sub.signal !== undefined) addStat('Signal', String(sub.signal), 'signal');
  else addStat('Exit code', sub.exit_code === null || sub.exit_code === undefined ? '–' : String(sub.exit_code), 'exit');
  addStat('CPU', seconds(sub.cpu_time), 'cpu');
  addStat('Wall', seconds(sub.wall_time), 'wall');
  addStat('Memory', memory(sub.memory), 'memory');
  ui.stats.hidden = sub.status === 'COMPILE_ERROR'; // the program never ran
  ui.status.textContent = sub.message ? sub.message : 'Finished';
  if (sub.compile_output) {
    ui.compile.textContent = sub.compile_output;
    ui.compile.hidden = false;
  }
  if (sub.status === 'COMPILE_ERROR') markLines(sub.compile_output ?? '');
  else if (sub.status === 'RUNTIME_ERROR') markLines(sub.stderr ?? '');
  ui.output.dataset.state = 'done';
  ui.run.disabled = false;
  ui.run.setAttribute('aria-busy', 'false');
  setTransport('');
  void refreshHistory();
}

function watchSubmission(id: string): void {
  stopFollowing?.();
  ui.output.dataset.state = 'running';
  stopFollowing = follow(cfg, id, {
    status: setStatus,
    output: appendOutput,
    reset: () => ui.out.replaceChildren(),
    result: (sub) => showResult(sub, ui.out.childElementCount === 0 && !!(sub.stdout || sub.stderr)),
    transport: setTransport,
    error: (e) => {
      showBanner(e.message);
      ui.output.dataset.state = 'done';
      ui.run.disabled = false;
    },
  });
}

function setShare(id: string | null): void {
  if (!id) {
    ui.share.hidden = ui.copy.hidden = true;
    return;
  }
  const url = `${location.origin}/s/${id}`;
  ui.share.href = url;
  ui.share.textContent = `/s/${id.slice(0, 8)}…`;
  ui.share.title = url;
  ui.share.hidden = ui.copy.hidden = false;
}

/* ---- running --------------------------------------------------------------------------------- */

function readLimits(): Partial<LimitSet> | null {
  const limits: Partial<LimitSet> = {};
  for (const f of LIMIT_FIELDS) {
    const input = ui.limits.elements.namedItem(f) as HTMLInputElement | null;
    if (!input) continue;
    input.removeAttribute('aria-invalid');
    const raw = input.value.trim();
    if (!raw) continue;
    let v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) {
      input.setAttribute('aria-invalid', 'true');
      throw new ApiError(`Check the ${input.dataset.label}: "${raw}" is not a positive number.`, 0, 'invalid', `limits.${f}`);
    }
    if (f === 'memory') v = Math.round(v * 1024); // entered in MiB, sent in KiB
    else if (f !== 'cpu_time' && f !== 'wall_time') v = Math.round(v);
    limits[f] = v;
  }
  return Object.keys(limits).length ? limits : null;
}

function markField(field: string | null): void {
  if (!field) return;
  if (field.startsWith('limits.')) {
    const input = ui.limits.elements.namedItem(field.slice(7)) as HTMLInputElement | null;
    if (input) {
      (ui.limits.closest('details') as HTMLDetailsElement).open = true;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  } else if (field === 'stdin') ui.stdin.setAttribute('aria-invalid', 'true');
}

async function run(): Promise<void> {
  if (ui.run.disabled) return;
  hideBanner();
  ui.stdin.removeAttribute('aria-invalid');
  const model = editor.getModel();
  if (model) monaco.editor.setModelMarkers(model, 'sentinel', []);
  ui.output.dataset.markedLine = '';
  let body: Record<string, unknown>;
  try {
    body = { language: current, source_code: editor.getValue() };
    if (ui.stdin.value) body.stdin = ui.stdin.value;
    const limits = readLimits();
    if (limits) body.limits = limits;
  } catch (e) {
    if (e instanceof ApiError) {
      showBanner(e.message);
      markField(e.field);
    }
    return;
  }
  stopFollowing?.();
  resetOutput();
  ui.run.disabled = true;
  ui.run.setAttribute('aria-busy', 'true');
  setStatus('QUEUED');
  ui.status.textContent = 'Submitting…';
  ui.output.dataset.state = 'running';
  try {
    const sub = await api.submit(body);
    history.pushState({ id: sub.id }, '', `/s/${sub.id}`);
    setShare(sub.id);
    setStatus(sub.status);
    watchSubmission(sub.id);
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(String(e), 0, 'internal');
    showError(err);
    if (err.status !== 401) markField(err.field);
    ui.status.textContent = 'Not submitted';
    ui.output.dataset.state = 'error';
    ui.output.dataset.status = '';
    ui.run.disabled = false;
    ui.run.setAttribute('aria-busy', 'false');
  }
}

/* ---- opening a submission (a share link, the history) ---------------------------------------- */

async function open(id: string): Promise<void> {
  hideBanner();
  stopFollowing?.();
  resetOutput();
  ui.status.textContent = 'Loading…';
  try {
    const sub = await api.get(id);
    clearTimeout(draftTimer);
    saveDraft();
    setProgram(sub.language, sub.source_code ?? '', true);
    ui.stdin.value = sub.stdin ?? '';
    for (const f of LIMIT_FIELDS) {
      const input = ui.limits.elements.namedItem(f) as HTMLInputElement | null;
      const v = sub.limits?.[f];
      if (input) input.value = v === undefined || v === null ? '' : String(f === 'memory' ? v / 1024 : v);
    }
    setShare(id);
    if (FINAL(sub.status)) showResult(sub, true);
    else {
      setStatus(sub.status);
      ui.run.disabled = true;
      watchSubmission(id);
    }
  } catch (e) {
    showError(e);
    ui.status.textContent = 'Ready';
  }
}

function routeFromLocation(): void {
  const m = /^\/s\/([^/]+)$/.exec(location.pathname);
  if (m && UUID_RE.test(m[1])) void open(m[1]);
}

async function refreshHistory(): Promise<void> {
  let page;
  try {
    page = await api.list(20);
  } catch {
    return; // the list is a convenience; the banner is for what the user asked
  }
  const names = new Map(languages.map((l) => [l.id, l.name]));
  const items = page.submissions.map((s) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `/s/${s.id}`;
    a.dataset.id = s.id;
    const when = s.created_at ? new Date(s.created_at).toLocaleTimeString() : '';
    const lang = document.createElement('span');
    lang.className = 'h-lang';
    lang.textContent = names.get(s.language) ?? s.language;
    const st = document.createElement('span');
    st.className = `h-status ${FINAL(s.status) ? verdictClass(s.status) : ''}`;
    st.textContent = words(s.status);
    const t = document.createElement('time');
    t.textContent = when;
    if (s.created_at) t.dateTime = s.created_at;
    a.append(lang, st, t);
    a.addEventListener('click', (ev) => {
      if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return; // a new tab: let it
      ev.preventDefault();
      history.pushState({ id: s.id }, '', `/s/${s.id}`);
      void open(s.id);
    });
    li.append(a);
    return li;
  });
  ui.historyList.replaceChildren(...items);
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Nothing run yet.';
    ui.historyList.append(li);
  }
}

/* ---- start ----------------------------------------------------------------------------------- */

async function start(): Promise<void> {
  try {
    [cfg, languages] = await Promise.all([api.config(), api.languages()]);
  } catch (e) {
    showError(e);
    ui.status.textContent = 'Unavailable';
    return;
  }
  ui.language.replaceChildren(
    ...languages.map((l) => {
      const o = document.createElement('option');
      o.value = l.id;
      o.textContent = `${l.name} · ${l.version}`;
      return o;
    }),
  );
  for (const f of LIMIT_FIELDS) {
    const input = ui.limits.elements.namedItem(f) as HTMLInputElement | null;
    if (!input) continue;
    const d = cfg.limits.default[f];
    const max = cfg.limits.max[f];
    input.placeholder = String(f === 'memory' ? d / 1024 : d);
    input.max = String(f === 'memory' ? max / 1024 : max);
  }
  const saved = storage()?.getItem(LANG_KEY);
  const lang = languages.find((l) => l.id === saved)?.id ?? languages[0]?.id ?? 'python';
  current = lang;
  ui.language.value = lang;
  editor = createEditor(ui.editor, MONACO_LANGUAGE[lang] ?? 'plaintext', storage()?.getItem(DRAFT_KEY(lang)) ?? starterFor(lang));
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => void run());
  editor.onDidChangeModelContent(() => {
    if (programmatic) return;
    clearTimeout(draftTimer);
    draftTimer = window.setTimeout(saveDraft, 300);
  });
  window.addEventListener('pagehide', saveDraft);

  ui.language.addEventListener('change', () => switchLanguage(ui.language.value));
  ui.run.addEventListener('click', () => void run());
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void run();
    }
  });
  ui.copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(ui.share.href);
      ui.copy.textContent = 'Copied';
    } catch {
      ui.copy.textContent = 'Select the link to copy';
    }
    setTimeout(() => (ui.copy.textContent = 'Copy link'), 2000);
  });
  ui.historyRefresh.addEventListener('click', () => void refreshHistory());
  ui.limits.addEventListener('submit', (ev) => ev.preventDefault());
  window.addEventListener('popstate', () => {
    if (/^\/s\//.test(location.pathname)) routeFromLocation();
  });

  ui.language.disabled = false;
  ui.run.disabled = false;
  ui.status.textContent = 'Ready';
  routeFromLocation();
  void refreshHistory();
  document.documentElement.dataset.ready = 'true';
  performance.mark('sentinel-editor-ready');
}

ui.keyForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  setApiKey(ui.key.value.trim() || null);
  location.reload(); // start again with the key: config, languages, the shared submission
});

void start();
