// summary.md for scripts/device-bench.sh: each bench run's markdown tables, then PyTorch's step
// (scripts/torch_step.py) next to ours for the same preset and shape — tokens/s, ours ÷ PyTorch,
// and sequence 0's completion log-prob sum at the starting weights from both (same weights, so
// they must agree to float32 rounding). Plain Node, no dependencies (it runs on the packed node).
//   node scripts/device-summary.mjs OUT_DIR WORK_DIR
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [outDir, workDir] = process.argv.slice(2);
const read = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null);
const lines = ['# PrefPlay device bench', ''];

const runs = [
  ['bench.json', 'bench.md', 'Default cases'],
  ['bench-gpt2.json', 'bench-gpt2.md', "GPT-2 small and real models' matmul shapes"],
  ['bench-llama.json', 'bench-llama.md', 'SmolLM2-135M (ours only)'],
];
const steps = [];
const notes = [];
for (const [json, md, title] of runs) {
  const report = read(join(outDir, json));
  if (!report) continue;
  lines.push(`## ${title} (${json})`, '');
  if (existsSync(join(workDir, md))) lines.push(readFileSync(join(workDir, md), 'utf8').trim(), '');
  lines.push(`ratios: \`${JSON.stringify(report.ratios)}\``, '');
  // the f16 kernels (src/bench/f16-bench.ts): available or not, and the native self-check's verdict
  if (report.f16) lines.push(`f16: ${report.f16.status}${report.f16.selfcheck_ok === null ? '' : `, self-check against float64 ${report.f16.selfcheck_ok ? 'passed' : 'FAILED'}`}`, '');
  if (report.f16?.selfcheck_ok === false) notes.push(`- ${json}: the native f16 kernels' self-check against float64 FAILED (see its f16.selfcheck)`);
  for (const s of report.train_step) steps.push({ ...s, adapter: report.adapter });
}

const torch = readdirSync(workDir)
  .filter((f) => /^torch-.*\.json$/.test(f))
  .flatMap((f) => read(join(workDir, f)) ?? []);
writeFileSync(join(outDir, 'torch.json'), JSON.stringify(torch, null, 2) + '\n');
if (torch.length) {
  lines.push('## PyTorch (scripts/torch_step.py) and ours', '');
  lines.push('| preset | batch × length | PyTorch | PyTorch ms/step | PyTorch tokens/s | PrefPlay tokens/s | ours ÷ PyTorch | logp_seq0 PyTorch / ours |', '|---|---|---|---|---|---|---|---|');
  for (const t of torch) {
    const ours = steps.filter((s) => s.preset === t.preset && s.B === t.B && s.T === t.T).at(-1);
    const ratio = ours ? (ours.tokens_per_s / t.tokens_per_s).toFixed(3) + '×' : '–';
    const check = ours?.check ? `${t.logp_seq0.toFixed(4)} / ${ours.check.logp_seq0}` : `${t.logp_seq0.toFixed(4)} / –`;
    lines.push(`| ${t.preset} | ${t.B} × ${t.T} | ${t.dtype}, ${t.optimizer}, ${t.device} | ${t.ms} | ${t.tokens_per_s} | ${ours ? ours.tokens_per_s : 'not run'} | ${ratio} | ${check} |`);
  }
  lines.push('');
}
if (existsSync(join(workDir, 'notes.md'))) lines.push('## Runs that did not finish', '', readFileSync(join(workDir, 'notes.md'), 'utf8').trim(), '');
if (notes.length) lines.push('## Failed checks', '', ...notes, '');
writeFileSync(join(outDir, 'summary.md'), lines.join('\n'));
console.log(lines.join('\n'));
