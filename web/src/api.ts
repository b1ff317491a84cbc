// SPDX-License-Identifier: Apache-2.0
// The REST API as the page uses it, and its errors put into words.

export interface Language {
  id: string;
  name: string;
  version: string;
  compiled: boolean;
}

export interface LimitSet {
  cpu_time: number; // seconds
  wall_time: number; // seconds
  memory: number; // KiB
  pids: number;
  output: number; // KiB per stream
}

export interface PageConfig {
  ws_port: number;
  ws_path: string;
  limits: { default: LimitSet; max: LimitSet };
  max_source_kb: number;
  max_stdin_kb: number;
  max_body_kb: number;
}

export interface Submission {
  id: string;
  language: string;
  status: string;
  stdout?: string | null;
  stderr?: string | null;
  compile_output?: string | null;
  exit_code?: number | null;
  signal?: number | null;
  cpu_time?: number | null;
  wall_time?: number | null;
  memory?: number | null;
  message?: string | null;
  created_at?: string;
  finished_at?: string | null;
  source_code?: string;
  stdin?: string | null;
  limits?: Partial<LimitSet> | null;
}

export interface SubmissionPage {
  submissions: Submission[];
  next_cursor?: string | null;
}

export const FINAL = (status: string): boolean => status !== 'QUEUED' && status !== 'RUNNING';

/** An API error in words: what happened, and which request field it names (if any). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'sentinel:api-key';

/** The API key this browser sends (servers with keys in use require one on /api routes). */
export function apiKey(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: the key lasts as long as the page */
  }
}

const FIELD_NAMES: Record<string, string> = {
  language: 'the language',
  source_code: 'the program',
  stdin: 'the input',
  'limits.cpu_time': 'the CPU time limit',
  'limits.wall_time': 'the wall time limit',
  'limits.memory': 'the memory limit',
  'limits.pids': 'the process limit',
  'limits.output': 'the output limit',
};

export function fieldName(field: string): string {
  return FIELD_NAMES[field] ?? `"${field}"`;
}

async function toError(resp: Response): Promise<ApiError> {
  let code = 'http_' + resp.status;
  let message = resp.statusText || 'request failed';
  let field: string | null = null;
  try {
    const body = await resp.json();
    if (body && body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      field = body.error.field ?? null;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  const ra = resp.headers.get('Retry-After');
  const retry = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra.trim()) : null;
  let words: string;
  switch (resp.status) {
    case 429:
      words =
        retry !== null
          ? `Too many submissions right now: try again in ${retry} second${retry === 1 ? '' : 's'}.`
          : 'Too many submissions right now: try again in a moment.';
      break;
    case 413:
      words = `Too large: ${message}. Shorten the program or the input.`;
      break;
    case 422:
    case 400:
      words = field ? `Check ${fieldName(field)}: ${message}.` : `The request was refused: ${message}.`;
      break;
    case 503:
      words = `The server is busy or starting (${message}); try again shortly.`;
      break;
    case 404:
      words = 'No such submission (it may have expired or the link is mistyped).';
      break;
    case 401:
    case 403:
      words = apiKey()
        ? 'This server refused the API key: enter a valid one below.'
        : 'This server requires an API key: enter one below.';
      break;
    default:
      words = `The server answered ${resp.status}: ${message}.`;
  }
  return new ApiError(words, resp.status, code, field, retry);
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let resp: Response;
  try {
    const key = apiKey();
    const headers: Record<string, string> = { Accept: 'application/json', ...((init?.headers as Record<string, string>) ?? {}) };
    if (key) headers.Authorization = `Bearer ${key}`;
    resp = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError('Cannot reach the server: check the connection and try again.', 0, 'network');
  }
  if (!resp.ok) throw await toError(resp);
  return (await resp.json()) as T;
}

export const api = {
  config: () => request<PageConfig>('/api/v1/config'),
  languages: () => request<Language[]>('/api/v1/languages'),
  submit: (body: object) =>
    request<Submission>('/api/v1/submissions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  get: (id: string) => request<Submission>(`/api/v1/submissions/${encodeURIComponent(id)}`),
  list: (limit: number) => request<SubmissionPage>(`/api/v1/submissions?limit=${limit}`),
};
