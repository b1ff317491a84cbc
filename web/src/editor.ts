// SPDX-License-Identifier: Apache-2.0
// Monaco with the editor's features but only the language modes Sentinel runs, and its one worker
// (the editor worker) loaded from this origin as a file of its own.
import 'monaco-editor/esm/vs/editor/edcore.main';
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api';
import 'monaco-editor/esm/vs/basic-languages/python/python.contribution';
import 'monaco-editor/esm/vs/basic-languages/cpp/cpp.contribution';
import 'monaco-editor/esm/vs/basic-languages/javascript/javascript.contribution';
import 'monaco-editor/esm/vs/basic-languages/java/java.contribution';
import 'monaco-editor/esm/vs/basic-languages/shell/shell.contribution';
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker?worker';

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

export { monaco };

const dark = window.matchMedia('(prefers-color-scheme: dark)');

export function createEditor(host: HTMLElement, language: string, value: string): monaco.editor.IStandaloneCodeEditor {
  const editor = monaco.editor.create(host, {
    value,
    language,
    theme: dark.matches ? 'vs-dark' : 'vs',
    automaticLayout: true,
    minimap: { enabled: false },
    fontSize: 14,
    scrollBeyondLastLine: false,
    tabSize: 4,
    ariaLabel: 'Program source. Press Ctrl+M (Cmd+M on a Mac) so that Tab moves the focus out of the editor.',
    accessibilitySupport: 'auto',
    renderLineHighlight: 'line',
    fixedOverflowWidgets: true,
  });
  dark.addEventListener('change', () => monaco.editor.setTheme(dark.matches ? 'vs-dark' : 'vs'));
  return editor;
}
