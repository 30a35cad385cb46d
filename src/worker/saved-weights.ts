// A run's model from its last resume snapshot, for whatever needs a run's weights once they are
// off the GPU: the page's exports after a reload (engine.worker.ts runWeights) and a later RLHF
// stage whose SFT or Reward model run was freed by a device loss (Session.startStage).
import type { LoadedModel } from '../model/family-checkpoint';
import type { BaseDtype, LoraConfig } from '../model/lora';
import { isRewardModel, rewardConfig } from '../model/reward';
import type { ResumeSnapshot } from '../train/training-run';
import { VALUE_PREFIX } from '../train/ppo-trainer';
import { mergedWeights } from './exports';

/**
 * The weights `snap` holds for the run `runId` trained from `base`: a LoRA run's adapters merged
 * over the base as it stored it (a LoRA snapshot holds the adapters only; `cfg` undefined: the
 * run's settings are unknown), a PPO run's policy without its value model (VALUE_PREFIX), a
 * reward model's as saved (the loaded model with a score head, rewardConfig).
 */
export function snapshotWeights(base: LoadedModel, runId: string, snap: ResumeSnapshot, cfg: { lora?: LoraConfig | null; baseDtype?: BaseDtype } | undefined): Map<string, Float32Array> {
  if (JSON.stringify(snap.config) !== JSON.stringify(base.config) && JSON.stringify(snap.config) !== JSON.stringify(rewardConfig(base.config))) throw new Error('the loaded model differs from the one this run trained: load the same model to export it');
  if (cfg?.lora) {
    const merged = mergedWeights(base, cfg.lora, cfg.baseDtype, snap.params);
    // a reward model's LoRA run: its trained score head came with the adapters (mergeLora); the
    // causal LM's untied head is not part of it (toRewardModel)
    if (isRewardModel(snap.config)) merged.delete('lm_head.weight');
    return merged;
  }
  if ([...snap.params.keys()].some((k) => /\.lora_[AB]\.weight$/.test(k))) throw new Error(`run "${runId}" trained LoRA adapters and the page did not say with which settings: reload the page to export it`);
  return new Map([...snap.params].filter(([k]) => !k.startsWith(VALUE_PREFIX)));
}
