// Accepted examples -> TRL-ready JSON Lines (README.md): one object per line that TRL's
// DPOTrainer / ORPOTrainer (paired) or KTOTrainer (unpaired) loads with
// `load_dataset("json", data_files=...)`.
//   string data:         {"prompt": str, "chosen": str, "rejected": str}      (explicit prompt;
//                        TRL appends the EOS token itself)
//   conversational data: {"prompt": [msgs], "chosen": [msgs], "rejected": [msgs]} (TRL applies
//                        the model's chat template)
//   unpaired (KTO):      {"prompt", "completion", "label": bool}, strings or message lists
// A pair's score_chosen / score_rejected (when the row had them) are kept; TRL ignores them.
import type { Example } from './types';

export function trlRecord(ex: Example): Record<string, unknown> {
  if (ex.kind === 'pair') {
    const rec: Record<string, unknown> = ex.messages ? { prompt: ex.messages.prompt, chosen: ex.messages.chosen, rejected: ex.messages.rejected } : { prompt: ex.prompt, chosen: ex.chosen, rejected: ex.rejected };
    if (ex.scoreChosen !== undefined) rec.score_chosen = ex.scoreChosen;
    if (ex.scoreRejected !== undefined) rec.score_rejected = ex.scoreRejected;
    return rec;
  }
  if (ex.messages) return { prompt: ex.messages.prompt, completion: ex.messages.completion, label: ex.label };
  return { prompt: ex.prompt, completion: ex.completion, label: ex.label };
}

/** One JSONL line, newline included. */
export function trlJsonlLine(ex: Example): string {
  return JSON.stringify(trlRecord(ex)) + '\n';
}
