// bench.html: `npm run bench` as a page. Same runBench, with navigator.gpu and the shaders Vite
// inlines; the peers — TensorFlow.js and jax-js — are loaded only when asked for (each is its own
// chunk; tfjs is the page's largest). Query parameters preset the form — cases, matmul, reps,
// peer (TF.js), jaxjs, large, profile, memory (1/0) — and auto=1 starts at once (the end-to-end
// test drives it that way). Cases take any model preset, Llama-family ones without the peers; the
// memory box allocates GPT-2 small's plan only (~2 GB; `npm run bench` also allocates SmolLM2-135M's).
import { createContext, explainNoWebGPU, requestAdapter } from '../engine/gpu';
import { webShaders } from '../engine/shaders-web';
import { benchMarkdown, DEFAULT_CASES, DEFAULT_MATMUL, LARGE_CASES, LARGE_MATMUL, runBench, type BenchReport, type PeerInfo } from './run';
import { parseMatmulShape, parseStepCase, stepCaseText } from './cases';
import { startJaxWebgpu, type Jax, type LoadedJaxPeer } from './peer-jaxjs';
import { DEFAULT_MEMORY_PLAN } from './memory-plan';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#form');
const log = $<HTMLPreElement>('#log');
const result = $<HTMLElement>('#result');
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;

const q = new URLSearchParams(location.search);
field('cases').value = q.get('cases') ?? DEFAULT_CASES.filter((c) => !c.reduced).map(stepCaseText).join(' ');
field('matmul').value = q.get('matmul') ?? DEFAULT_MATMUL.map((s) => s.join('x')).join(' ');
field('reps').value = q.get('reps') ?? '3';
field('peer').checked = q.get('peer') !== '0';
field('jaxjs').checked = q.get('jaxjs') !== '0';
field('large').checked = q.get('large') === '1';
field('profile').checked = q.get('profile') !== '0';
field('memory').checked = q.get('memory') === '1';

function say(line: string): void {
  log.textContent += line + '\n';
  log.scrollTop = log.scrollHeight;
}

async function loadPeer(): Promise<PeerInfo> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs'); // every op's gradient
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its WebGPU backend on this adapter');
  await tf.ready();
  const device = (tf.backend() as unknown as { device: GPUDevice & { adapterInfo?: GPUAdapterInfo } }).device;
  const info = device.adapterInfo;
  return { tf, name: 'TensorFlow.js WebGPU backend (GPT-2 in tfjs ops)', version: tf.version_core, adapter: { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', description: info?.description ?? '' } };
}

async function loadJaxPeer(): Promise<LoadedJaxPeer> {
  return startJaxWebgpu((await import('@jax-js/jax')) as Jax);
}

/** The report's markdown tables as HTML tables, other lines as paragraphs. */
function render(md: string): void {
  result.replaceChildren();
  let table: HTMLTableElement | null = null;
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) {
      table = null;
      if (line.trim()) result.append(Object.assign(document.createElement('p'), { textContent: line }));
      continue;
    }
    const cells = line.slice(1, -1).split('|').map((c) => c.trim());
    if (cells.every((c) => /^-+$/.test(c))) continue;
    const head = !table;
    if (!table) result.append((table = document.createElement('table')));
    const tr = table.insertRow();
    for (const c of cells) tr.append(Object.assign(document.createElement(head ? 'th' : 'td'), { textContent: c }));
  }
}

function offerJson(report: BenchReport): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([JSON.stringify(report, null, 2) + '\n'], { type: 'application/json' }));
  a.download = 'prefplay-bench.json';
  a.textContent = 'Download the full report (JSON)';
  result.append(a);
}

async function run(): Promise<void> {
  const button = $<HTMLButtonElement>('#run');
  button.disabled = true;
  log.textContent = '';
  document.body.dataset.state = 'running';
  let device: GPUDevice | null = null;
  try {
    const large = field('large').checked;
    const cases = [...field('cases').value.split(/[\s,]+/).filter(Boolean).map(parseStepCase), ...(large ? LARGE_CASES : [])];
    const matmulShapes = [...field('matmul').value.split(/[\s,]+/).filter(Boolean).map(parseMatmulShape), ...(large ? LARGE_MATMUL : [])];
    const reps = Number(field('reps').value);
    if (!Number.isInteger(reps) || reps < 1) throw new Error(`repetitions must be a positive integer, got "${field('reps').value}"`);
    const gpu = navigator.gpu as GPU | undefined;
    const adapter = gpu && isSecureContext ? await requestAdapter(gpu) : null;
    if (!adapter) throw new Error(explainNoWebGPU({ hasGpu: Boolean(gpu), secure: isSecureContext, userAgent: navigator.userAgent }).message);
    const ctx = await createContext(adapter, webShaders, 'prefplay-bench');
    device = ctx.device;
    const peer = field('peer').checked ? (say('loading TensorFlow.js…'), await loadPeer()) : null;
    const jax = field('jaxjs').checked ? (say('loading jax-js…'), await loadJaxPeer()) : null;
    const memory = field('memory').checked ? [DEFAULT_MEMORY_PLAN] : [];
    const report = await runBench(ctx, peer, { cases, matmulShapes, reps, profile: field('profile').checked, memory, log: say, jax });
    render(benchMarkdown(report));
    say(`ratios: ${JSON.stringify(report.ratios)}`);
    offerJson(report);
    (window as unknown as { benchReport: BenchReport }).benchReport = report;
    document.body.dataset.state = 'done';
  } catch (e) {
    say(`error: ${(e as Error).message}`);
    document.body.dataset.state = 'error';
  } finally {
    device?.destroy();
    button.disabled = false;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void run();
});
if (q.get('auto') === '1') void run();
