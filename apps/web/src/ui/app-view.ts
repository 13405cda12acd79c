/** Builds the page's DOM once and hands back the elements the app updates. Plain DOM, no framework. */

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export interface AppView {
  root: HTMLElement;
  backendSelect: HTMLSelectElement;
  /** Per-layer embedding offload: `auto`, `on`, `off`. */
  pleSelect: HTMLSelectElement;
  urlInput: HTMLInputElement;
  loadButton: HTMLButtonElement;
  pickFolderButton: HTMLButtonElement;
  folderInput: HTMLInputElement;
  backendNote: HTMLElement;
  progress: { bar: HTMLProgressElement; label: HTMLElement; file: HTMLElement };
  status: HTMLElement;
  cacheList: HTMLElement;
  clearCacheButton: HTMLButtonElement;
  transcript: HTMLElement;
  promptInput: HTMLTextAreaElement;
  sendButton: HTMLButtonElement;
  stopButton: HTMLButtonElement;
  resetButton: HTMLButtonElement;
  greedyCheckbox: HTMLInputElement;
  maxTokensInput: HTMLInputElement;
  attachImageButton: HTMLButtonElement;
  imageInput: HTMLInputElement;
  cameraButton: HTMLButtonElement;
  attachAudioButton: HTMLButtonElement;
  audioInput: HTMLInputElement;
  microphoneButton: HTMLButtonElement;
  attachments: HTMLElement;
  stats: { speed: HTMLElement; firstToken: HTMLElement; memory: HTMLElement; engine: HTMLElement; rowFiles: HTMLElement };
  measureMemoryButton: HTMLButtonElement;
}

export function buildAppView(container: HTMLElement, defaults: { modelUrl: string; webGpuAvailable: boolean }): AppView {
  const backendSelect = element('select', { id: 'backend', 'aria-label': 'Backend' });
  backendSelect.append(element('option', { value: 'wasm' }, 'WASM (CPU)'), element('option', { value: 'webgpu' }, 'WebGPU'));
  const pleSelect = element('select', { id: 'ple-offload', 'aria-label': 'Per-layer embeddings', title: 'Read the per-layer embedding rows from OPFS per token instead of holding the table in memory' });
  pleSelect.append(
    element('option', { value: 'auto' }, 'PLE rows from OPFS when the folder has the table file'),
    element('option', { value: 'on' }, 'PLE rows from OPFS (needs the table file)'),
    element('option', { value: 'off' }, 'PLE table in memory'),
  );
  const backendNote = element('span', { class: 'note', id: 'backend-note' }, defaults.webGpuAvailable ? '' : 'WebGPU is not available in this browser');
  const urlInput = element('input', { id: 'model-url', type: 'url', value: defaults.modelUrl, placeholder: 'https://…/model-folder/', 'aria-label': 'Model folder URL', spellcheck: 'false' });
  const loadButton = element('button', { id: 'load', class: 'primary' }, 'Load');
  const pickFolderButton = element('button', { id: 'pick-folder', title: 'Load a model folder from this computer (nothing is uploaded or cached)' }, 'Open folder…');
  const folderInput = element('input', { id: 'folder-input', type: 'file', hidden: '', webkitdirectory: '', multiple: '' });

  const bar = element('progress', { id: 'progress', max: '100', value: '0' });
  const progressLabel = element('span', { id: 'progress-label' }, '');
  const progressFile = element('span', { id: 'progress-file', class: 'note' }, '');
  const status = element('div', { id: 'status', role: 'status', 'data-state': 'idle' }, 'No model loaded.');

  const cacheList = element('ul', { id: 'cache-list' });
  const clearCacheButton = element('button', { id: 'clear-cache', class: 'small' }, 'Clear cache');

  const transcript = element('div', { id: 'transcript', 'aria-live': 'polite' });
  const promptInput = element('textarea', { id: 'prompt', rows: '3', placeholder: 'Write a message. Enter sends, Shift+Enter adds a line. Paste an image to attach it.' });
  const sendButton = element('button', { id: 'send', class: 'primary', disabled: '' }, 'Send');
  const stopButton = element('button', { id: 'stop', disabled: '' }, 'Stop');
  const resetButton = element('button', { id: 'reset', class: 'small' }, 'New chat');
  const greedyCheckbox = element('input', { id: 'greedy', type: 'checkbox', checked: '' });
  const maxTokensInput = element('input', { id: 'max-tokens', type: 'number', min: '1', max: '4096', value: '64' });

  const attachImageButton = element('button', { id: 'attach-image', class: 'small' }, 'Image…');
  const imageInput = element('input', { id: 'image-input', type: 'file', accept: 'image/*', multiple: '', hidden: '' });
  const cameraButton = element('button', { id: 'camera', class: 'small' }, 'Camera');
  const attachAudioButton = element('button', { id: 'attach-audio', class: 'small' }, 'Audio…');
  const audioInput = element('input', { id: 'audio-input', type: 'file', accept: 'audio/*', multiple: '', hidden: '' });
  const microphoneButton = element('button', { id: 'microphone', class: 'small' }, 'Record');
  const attachments = element('div', { id: 'attachments' });

  const speed = element('span', { id: 'stat-speed' }, '—');
  const firstToken = element('span', { id: 'stat-ttft' }, '—');
  const memory = element('span', { id: 'stat-memory' }, '—');
  const engine = element('span', { id: 'stat-engine' }, '—');
  const rowFiles = element('span', { id: 'stat-ple' }, '—');
  const measureMemoryButton = element('button', { id: 'measure-memory', class: 'small', title: 'performance.measureUserAgentSpecificMemory(): page and workers; can take half a minute' }, 'Measure');

  const root = element(
    'main',
    { class: 'app' },
    element('header', {}, element('h1', {}, 'Gemma 3n ', element('span', { class: 'subtitle' }, 'on this device')),
      element('p', { class: 'note' }, 'Runs in your browser: the model is downloaded once, cached, and never leaves this machine.')),
    element(
      'section',
      { class: 'panel model-panel', 'aria-label': 'Model' },
      element('div', { class: 'row' }, element('label', { for: 'model-url' }, 'Model'), urlInput, loadButton, pickFolderButton, folderInput),
      element('div', { class: 'row' }, element('label', { for: 'backend' }, 'Backend'), backendSelect, pleSelect, backendNote),
      element('div', { class: 'row progress-row' }, bar, progressLabel),
      progressFile,
      status,
      element('details', { class: 'cache' }, element('summary', {}, 'Cached models'), cacheList, clearCacheButton),
    ),
    element(
      'section',
      { class: 'panel chat-panel', 'aria-label': 'Chat' },
      transcript,
      attachments,
      element('div', { class: 'composer' }, promptInput, element('div', { class: 'composer-buttons' }, sendButton, stopButton)),
      element(
        'div',
        { class: 'row tools' },
        attachImageButton, imageInput, cameraButton, attachAudioButton, audioInput, microphoneButton,
        element('span', { class: 'note' }, 'Images: file, paste or camera. Audio: file or microphone, resampled to 16 kHz.'),
      ),
      element(
        'div',
        { class: 'row tools' },
        element('label', {}, greedyCheckbox, ' Greedy'),
        element('label', {}, 'Max tokens ', maxTokensInput),
        resetButton,
      ),
    ),
    element(
      'footer',
      { class: 'stats' },
      element('span', {}, 'Speed ', speed),
      element('span', {}, 'First token ', firstToken),
      element('span', {}, 'Memory ', memory, ' ', measureMemoryButton),
      element('span', {}, 'Engine ', engine),
      element('span', {}, 'Per-layer rows ', rowFiles),
    ),
  );
  container.replaceChildren(root);
  return {
    root, backendSelect, pleSelect, urlInput, loadButton, pickFolderButton, folderInput, backendNote,
    progress: { bar, label: progressLabel, file: progressFile }, status, cacheList, clearCacheButton,
    transcript, promptInput, sendButton, stopButton, resetButton, greedyCheckbox, maxTokensInput,
    attachImageButton, imageInput, cameraButton, attachAudioButton, audioInput, microphoneButton, attachments,
    stats: { speed, firstToken, memory, engine, rowFiles },
    measureMemoryButton,
  };
}

/** Appends a chat bubble; returns its text element so a reply can stream into it. */
export function appendMessage(transcript: HTMLElement, role: 'user' | 'model' | 'error', text: string): HTMLElement {
  const body = element('div', { class: 'text' }, text);
  const bubble = element('div', { class: `message ${role}`, 'data-role': role }, element('div', { class: 'role' }, role === 'model' ? 'Gemma' : role === 'user' ? 'You' : 'Error'), body);
  transcript.append(bubble);
  transcript.scrollTop = transcript.scrollHeight;
  return body;
}
