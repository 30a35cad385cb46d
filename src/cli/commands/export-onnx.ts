// `export-onnx`: a model folder of either family (GPT-2, or Llama / Qwen2 / Mistral) as an ONNX
// graph (README.md): input `input_ids` int64 (batch, sequence) -> output `logits` float32
// (batch, sequence, vocab), weights as initializers.
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command';
import { requireString, UsageError } from '../command';
import { loadModelArg } from '../model-load';
import { modelType, sequenceConfig } from '../../model/family';
import { exportModelOnnx, onnxParamCount } from '../../onnx/export';

export const exportOnnx: Command = {
  name: 'export-onnx',
  summary: 'Export a model folder as ONNX (input_ids int64 [batch, sequence] -> logits float32 [batch, sequence, vocab]), opset 17, for onnxruntime.',
  options: {
    model: { type: 'string', valueName: 'DIR|builtin', description: 'Model folder (config.json + model.safetensors or shards; GPT-2, Llama, Qwen2 or Mistral), or builtin' },
    out: { type: 'string', valueName: 'FILE.onnx', description: 'File to write (overwritten)' },
  },
  details: [
    'Example: npm run cli -- export-onnx --model runs/orpo/model --out orpo.onnx',
    'Python: onnxruntime.InferenceSession("orpo.onnx").run(["logits"], {"input_ids": ids})  (ids int64, right-padded)',
  ],
  async run(opts) {
    const model = requireString(opts, 'model');
    const out = requireString(opts, 'out');
    const ckpt = await loadModelArg(model);
    const bytes = exportModelOnnx(ckpt.config, ckpt.params, { metadata: { source: model === 'builtin' ? 'builtin' : ckpt.dir } });
    try {
      await writeFile(out, bytes);
    } catch (e) {
      throw new UsageError(`--out ${out}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    const V = sequenceConfig(ckpt.config).vocabSize;
    console.log(`wrote ${out} (${modelType(ckpt.config)}, ${bytes.length.toLocaleString('en-US')} bytes, ${onnxParamCount(ckpt.config).toLocaleString('en-US')} parameters): input_ids int64 [batch, sequence] -> logits float32 [batch, sequence, ${V}]`);
  },
};
