// SPDX-License-Identifier: Apache-2.0
// Where a compiler's or interpreter's message names a line of the program: gcc/g++ and javac
// ("main.c:3:5: error: ..."), Python tracebacks, Node's "main.js:3", bash's "main.sh: line 3:".

export interface Diagnostic {
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
}

const SOURCE = String.raw`(?:[^\s:"']*\/)?(?:main\.(?:c|cpp|py|js|sh)|Main\.java)`;
const GCC_LIKE = new RegExp(String.raw`^${SOURCE}:(\d+)(?::(\d+))?:\s*(?:(fatal error|error|warning):\s*)?(.*)$`, 'gm');
const PYTHON = new RegExp(String.raw`File "${SOURCE}", line (\d+)`, 'g');
const NODE = new RegExp(String.raw`^${SOURCE}:(\d+)$`, 'm');
const BASH = new RegExp(String.raw`^${SOURCE}: line (\d+): (.*)$`, 'gm');

function lastErrorLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) if (/^[\w.]*(Error|Exception)\b/.test(lines[i])) return lines[i];
  return lines[lines.length - 1] ?? 'error';
}

/** The diagnostics text names, clamped to lineCount; at most 50. */
export function parseDiagnostics(text: string, lineCount: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (line: number, column: number, severity: Diagnostic['severity'], message: string): void => {
    if (line >= 1 && line <= lineCount && out.length < 50) out.push({ line, column: Math.max(1, column), severity, message });
  };
  for (const m of text.matchAll(GCC_LIKE)) {
    const kind = m[3] ?? '';
    if (kind === 'warning') add(Number(m[1]), Number(m[2] ?? 1), 'warning', m[4]);
    else if (kind || !/^\s*(note|required from|In )/.test(m[4])) add(Number(m[1]), Number(m[2] ?? 1), 'error', m[4] || 'error');
  }
  if (out.length) return out;
  const py = [...text.matchAll(PYTHON)];
  if (py.length) {
    add(Number(py[py.length - 1][1]), 1, 'error', lastErrorLine(text)); // the innermost frame in the program
    return out;
  }
  for (const m of text.matchAll(BASH)) add(Number(m[1]), 1, 'error', m[2]);
  if (out.length) return out;
  const node = NODE.exec(text);
  if (node) add(Number(node[1]), 1, 'error', lastErrorLine(text));
  return out;
}
