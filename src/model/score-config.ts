// Reward models in config.json (issue 16, docs/rlhf.md "Reward model on the GPU"): Hugging Face's
// GPT2ForSequenceClassification / LlamaForSequenceClassification (Qwen2…, Mistral…) with one label.
// Their trunk is the causal LM's; the LM head is replaced by `score.weight` [1, C] (nn.Linear, no
// bias), read at the last non-padding token, which is why pad_token_id matters. Pure: both
// families' config readers and writers (./config.ts, ./llama-config.ts) use these helpers.

/** The score head's tensor name (no `transformer.` / `model.` prefix in either family). */
export const SCORE_WEIGHT = 'score.weight';

const SEQ_CLS = 'ForSequenceClassification';

// a value as JSON, cut short: a message stays one readable line whatever the file holds
const show = (v: unknown) => String(JSON.stringify(v)).slice(0, 80);

/**
 * Whether config.json describes a reward model: `architectures` names a *ForSequenceClassification
 * class. Its label count (num_labels, else the size of id2label, else transformers' default 2) must
 * be 1: a classifier with more labels is refused, naming the field.
 */
export function scoreHeadFromHF(json: Record<string, unknown>, where = 'config.json'): boolean {
  const arch = json.architectures;
  const names = Array.isArray(arch) ? arch.filter((a): a is string => typeof a === 'string') : [];
  const cls = names.find((a) => a.endsWith(SEQ_CLS));
  if (!cls) return false;
  const id2label = json.id2label;
  const labels = json.num_labels ?? (typeof id2label === 'object' && id2label !== null ? Object.keys(id2label).length : 2);
  if (labels !== 1) throw new Error(`${where}: ${cls} with num_labels ${show(labels)} is not supported (a reward model has num_labels 1: one score per sequence)`);
  return true;
}

/**
 * The fields transformers' AutoModelForSequenceClassification reads (and save_pretrained writes)
 * for a one-label reward model of `causalArch` (e.g. GPT2LMHeadModel -> GPT2ForSequenceClassification).
 */
export function scoreHeadToHF(causalArch: string, padTokenId: number | null): Record<string, unknown> {
  const base = causalArch.replace(/(LMHeadModel|ForCausalLM)$/, '');
  return {
    architectures: [`${base}${SEQ_CLS}`],
    num_labels: 1,
    id2label: { '0': 'LABEL_0' },
    label2id: { LABEL_0: 0 },
    pad_token_id: padTokenId,
  };
}
