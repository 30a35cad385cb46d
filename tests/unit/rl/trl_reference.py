"""Reference values for tests/unit/rl/trl-reference.test.ts, computed with PyTorch (float64) by
TRL v1.9.0's own code: helper functions are executed verbatim from the TRL sources (read from a git
checkout of huggingface/trl at tag v1.9.0), and the trainer method bodies that cannot be called
alone (RewardTrainer.compute_loss, GRPOTrainer._generate_and_score_completions / _compute_loss,
RLOOTrainer's, PPOTrainer.train) are transcribed line for line below, with their line numbers.
Gradients come from autograd, so the per-token coefficients are checked against torch's own
max/min/clamp backward rules.

Not run by the test suite (no PyTorch there): regenerate the fixture with
    TRL_REPO=/path/to/trl.git python3 tests/unit/rl/trl_reference.py > tests/unit/rl/trl-reference.json
(needs torch; the committed fixture was made with torch 1.13).
"""

import ast
import json
import math
import os
import subprocess
import sys

import torch

TRL_REPO = os.environ.get("TRL_REPO", "/work/.mirror/huggingface+trl/repo")
TAG = "v1.9.0"
torch.set_default_dtype(torch.float64)


def trl_functions(path, names):
    src = subprocess.check_output(["git", "-C", TRL_REPO, "show", f"{TAG}:{path}"], text=True)
    tree = ast.parse(src)
    ns = {"torch": torch}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            node.decorator_list = []
            exec(compile(ast.Module([node], []), path, "exec"), ns)
    missing = [n for n in names if n not in ns]
    if missing:
        raise SystemExit(f"{path}: {missing} not found")
    return ns


U = trl_functions("trl/trainer/utils.py", ["nanstd", "nanmin", "nanmax", "selective_log_softmax", "entropy_from_logits"])
P = trl_functions("trl/experimental/ppo/ppo_trainer.py", ["masked_mean", "masked_var", "masked_whiten", "truncate_response"])
P.update(trl_functions("trl/experimental/utils.py", ["first_true_indices"]))
# truncate_response calls first_true_indices from its module's imports
P["truncate_response"].__globals__["first_true_indices"] = P["first_true_indices"]
nanstd, nanmin, nanmax = U["nanstd"], U["nanmin"], U["nanmax"]
masked_mean, masked_whiten, truncate_response, first_true_indices = P["masked_mean"], P["masked_whiten"], P["truncate_response"], P["first_true_indices"]

g = torch.Generator().manual_seed(20260721)


def rand(*shape, lo=0.0, hi=1.0):
    return lo + (hi - lo) * torch.rand(*shape, generator=g)


def L(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().tolist()
    return x


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


out = {"trl": TAG, "torch": torch.__version__}

# ---------------------------------------------------------------- reward model (reward_trainer.py 739-777)
def reward_case(chosen, rejected, margin, center):
    rc = torch.tensor(chosen, requires_grad=True)
    rr = torch.tensor(rejected, requires_grad=True)
    inputs = {} if margin is None else {"margin": torch.tensor(margin)}
    rewards_chosen, rewards_rejected = rc, rr
    if "margin" in inputs:
        loss = -torch.nn.functional.logsigmoid(rewards_chosen - rewards_rejected - inputs["margin"]).mean()
    else:
        loss = -torch.nn.functional.logsigmoid(rewards_chosen - rewards_rejected).mean()
    if center is not None:
        loss += center * torch.mean((rewards_chosen + rewards_rejected) ** 2)
    loss.backward()
    all_rewards = torch.cat([rc, rr]).detach()
    return {
        "chosen": chosen, "rejected": rejected, "margin": margin, "center": center,
        "loss": loss.item(), "dChosen": L(rc.grad), "dRejected": L(rr.grad),
        "metrics": {
            "min_reward": all_rewards.min().item(), "mean_reward": all_rewards.mean().item(), "max_reward": all_rewards.max().item(),
            "accuracy": (rc > rr).float().mean().item(), "margin": (rc - rr).mean().item(),
        },
    }


out["reward"] = [
    reward_case([1.5, -0.2, 0.3, 2.0], [0.5, 0.1, 0.3, -1.0], None, None),
    reward_case([1.5, -0.2, 0.3, 2.0], [0.5, 0.1, 0.3, -1.0], [0.5, 0.0, 1.0, 2.5], 0.01),
]

# ---------------------------------------------------------------- GRPO advantages (grpo_trainer.py 2672-2750)
def grpo_adv_case(values, weights, G, scale_rewards, aggregation):
    rewards_per_func = torch.tensor(values)
    reward_weights = torch.tensor(weights)
    num_generations = G
    unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)
    if aggregation == "sum_then_normalize":
        rewards = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
        rewards[unscorable_mask] = torch.nan
        mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
        mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
        if scale_rewards in ["group", "none"]:
            if num_generations > 1:
                std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
                std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
            else:
                std_rewards = torch.zeros_like(rewards)
        elif scale_rewards == "batch":
            if rewards.numel() > 1:
                std_rewards = nanstd(rewards).expand_as(rewards)
            else:
                std_rewards = torch.zeros_like(rewards)
        advantages = rewards - mean_grouped_rewards
        if scale_rewards != "none":
            advantages = advantages / (std_rewards + 1e-4)
        is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    else:
        grouped = rewards_per_func.view(-1, num_generations, len(weights))
        mean_k = torch.nanmean(grouped, dim=1, keepdim=True)
        std_k = nanstd(grouped, dim=1, keepdim=True) if num_generations > 1 else torch.zeros_like(mean_k)
        reward_k = (grouped - mean_k) / (std_k + 1e-4)
        reward_k = reward_k.view(-1, len(weights))
        rewards = (reward_k * reward_weights.unsqueeze(0)).nansum(dim=1)
        rewards[unscorable_mask] = torch.nan
        std_rewards = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else torch.zeros_like(rewards)
        advantages = (rewards - torch.nanmean(rewards)) / (std_rewards + 1e-4)
        is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    advantages = torch.nan_to_num(advantages, nan=0.0)
    metrics = {}
    names = [f"f{i}" for i in range(len(weights))]
    for i, name in enumerate(names):
        metrics[f"rewards/{name}/mean"] = num(torch.nanmean(rewards_per_func[:, i]))
        metrics[f"rewards/{name}/std"] = num(nanstd(rewards_per_func[:, i]))
    rewards = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
    rewards[unscorable_mask] = torch.nan
    metrics["reward"] = num(torch.nanmean(rewards))
    metrics["reward_std"] = num(nanstd(rewards))
    metrics["frac_reward_zero_std"] = is_std_zero.float().mean().item()
    return {"values": [[num(v) for v in row] for row in values], "weights": weights, "G": G, "scaleRewards": scale_rewards,
            "aggregation": aggregation, "advantages": L(advantages), "metrics": metrics}


nan = float("nan")
ADV_VALUES = [
    [1.0, 0.5], [0.0, nan], [1.0, 0.25], [0.5, 0.0],   # prompt 0
    [2.0, 1.0], [2.0, 1.0], [2.0, 1.0], [2.0, 1.0],    # prompt 1: zero std
    [nan, nan], [0.3, 0.2], [0.9, nan], [0.1, 0.7],    # prompt 2: one unscorable row
]
out["grpoAdvantages"] = [
    grpo_adv_case(ADV_VALUES, [1.0, 0.5], 4, "group", "sum_then_normalize"),
    grpo_adv_case(ADV_VALUES, [1.0, 0.5], 4, "batch", "sum_then_normalize"),
    grpo_adv_case(ADV_VALUES, [1.0, 0.5], 4, "none", "sum_then_normalize"),
    grpo_adv_case(ADV_VALUES, [1.0, 0.5], 4, "group", "normalize_then_sum"),
    grpo_adv_case([[0.0], [1.0], [1.0], [1.0], [0.0], [0.0]], [1.0], 2, "group", "sum_then_normalize"),
]

# ---------------------------------------------------------------- RLOO advantages (rloo_trainer.py 1526-1590)
def rloo_adv_case(values, weights, G, beta, kl_tokens, mask, clip, normalize):
    rewards_per_func = torch.tensor(values)
    reward_weights = torch.tensor(weights)
    num_generations = G
    completion_mask = torch.tensor(mask)
    per_token_kl = torch.tensor(kl_tokens)
    unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)
    rewards = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
    rewards[unscorable_mask] = torch.nan
    if clip:
        rewards = rewards.clamp(min=clip[0], max=clip[1])
    if beta != 0.0:
        kl = (per_token_kl * completion_mask).sum(-1)
        rewards = rewards - beta * kl
    grouped_rewards = rewards.view(-1, num_generations)
    if num_generations > 1:
        std_rewards = nanstd(grouped_rewards, dim=1)
    else:
        std_rewards = torch.zeros_like(torch.nanmean(grouped_rewards, dim=1))
    scorable_counts = (~torch.isnan(grouped_rewards)).sum(dim=1, keepdim=True)
    grouped_sum = torch.nansum(grouped_rewards, dim=1, keepdim=True)
    if num_generations > 1:
        baselines = (grouped_sum - grouped_rewards) / (scorable_counts - 1)
        baselines = baselines.view(-1)
        advantages = rewards - baselines
    else:
        advantages = torch.zeros_like(rewards)
    if normalize:
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + 1e-4)
    advantages = torch.nan_to_num(advantages, nan=0.0)
    is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    metrics = {}
    if beta != 0.0:
        kl_stats = torch.stack([(per_token_kl * completion_mask).sum(), completion_mask.sum().float()])
        metrics["kl"] = (kl_stats[0] / kl_stats[1].clamp(min=1.0)).item()
    for i in range(len(weights)):
        metrics[f"rewards/f{i}/mean"] = num(torch.nanmean(rewards_per_func[:, i]))
        metrics[f"rewards/f{i}/std"] = num(nanstd(rewards_per_func[:, i]))
    rewards = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
    rewards[unscorable_mask] = torch.nan
    metrics["reward"] = num(torch.nanmean(rewards))
    metrics["reward_std"] = num(nanstd(rewards))
    metrics["frac_reward_zero_std"] = is_std_zero.float().mean().item()
    return {"values": [[num(v) for v in row] for row in values], "weights": weights, "G": G, "beta": beta,
            "klSums": L((per_token_kl * completion_mask).sum(-1)), "klCounts": L(completion_mask.sum(-1)),
            "clip": clip, "normalize": normalize, "advantages": L(advantages), "metrics": metrics}


N_ADV = len(ADV_VALUES)
KL_TOK = L(rand(N_ADV, 5, lo=-0.3, hi=0.5))
KL_MASK = [[1.0] * (1 + (i * 3) % 5) + [0.0] * (5 - 1 - (i * 3) % 5) for i in range(N_ADV)]
out["rlooAdvantages"] = [
    rloo_adv_case(ADV_VALUES, [1.0, 0.5], 4, 0.05, KL_TOK, KL_MASK, None, False),
    rloo_adv_case(ADV_VALUES, [1.0, 0.5], 4, 0.05, KL_TOK, KL_MASK, [0.2, 1.1], True),
    rloo_adv_case(ADV_VALUES, [1.0, 0.5], 2, 0.0, KL_TOK, KL_MASK, None, False),
]

# ---------------------------------------------------------------- GRPO loss (grpo_trainer.py 2991-3262)
def grpo_loss_case(loss_type, beta, eps_low, eps_high, with_old, num_items_extra, ga):
    B, T = 4, 6
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.float64)
    base = rand(B, T, lo=-3.0, hi=-0.05)
    old = base + rand(B, T, lo=-0.45, hi=0.45)
    ref = base + rand(B, T, lo=-0.8, hi=0.8)
    ent = rand(B, T, lo=0.1, hi=2.5)
    adv = torch.tensor([1.3, -0.7, 0.4, 0.9])
    per_token_logps = base.clone().requires_grad_(True)
    entropies = ent
    advantages = adv.unsqueeze(1)
    old_per_token_logps = old if with_old else per_token_logps.detach()
    num_items_in_batch = mask.sum() + num_items_extra
    log_ratio = per_token_logps - old_per_token_logps
    log_importance_weights = log_ratio
    coef_1 = torch.exp(log_importance_weights)
    ref_per_token_logps = ref
    per_token_kl = torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
    coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
    per_token_loss1 = coef_1 * advantages
    per_token_loss2 = coef_2 * advantages
    per_token_loss = -torch.min(per_token_loss1, per_token_loss2)
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl
    normalizer = ga
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean() / normalizer
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0) / normalizer
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * 256) / normalizer
    elif loss_type == "dapo":
        loss = (per_token_loss * mask).sum() / num_items_in_batch.clamp(min=1.0)
    loss.backward()

    def masked_seq_mean(x):
        return (x * mask).sum(-1) / mask.sum(-1)

    def global_masked_mean(x):
        return ((x * mask).sum() / mask.sum().clamp(min=1.0)).item()

    is_low_clipped = (coef_1 < 1 - eps_low) & (advantages < 0)
    is_high_clipped = (coef_1 > 1 + eps_high) & (advantages > 0)
    is_region_clipped = is_low_clipped | is_high_clipped
    metrics = {
        "kl": global_masked_mean(per_token_kl), "entropy": global_masked_mean(entropies),
        "clip_ratio/low_mean": global_masked_mean(is_low_clipped.float()),
        "clip_ratio/low_min": num(nanmin(masked_seq_mean(is_low_clipped.float()))),
        "clip_ratio/high_mean": global_masked_mean(is_high_clipped.float()),
        "clip_ratio/high_max": num(nanmax(masked_seq_mean(is_high_clipped.float()))),
        "clip_ratio/region_mean": global_masked_mean(is_region_clipped.float()),
    }
    return {"B": B, "T": T, "lossType": loss_type, "beta": beta, "epsilonLow": eps_low, "epsilonHigh": eps_high, "gradAccum": ga,
            "logps": L(base.flatten()), "oldLogps": L(old.flatten()) if with_old else None, "refLogps": L(ref.flatten()),
            "mask": L(mask.flatten()), "advantages": L(adv), "entropies": L(ent.flatten()),
            "activeTokens": num_items_in_batch.item(), "loss": loss.item(), "coef": L(per_token_logps.grad.flatten()),
            "clippedLow": int(((is_low_clipped.float() * mask).sum()).item()), "clippedHigh": int(((is_high_clipped.float() * mask).sum()).item()),
            "metrics": metrics}


out["grpoLoss"] = [
    grpo_loss_case("dapo", 0.04, 0.2, 0.2, True, 9, 1),
    grpo_loss_case("dapo", 0.0, 0.2, 0.28, True, 0, 1),
    grpo_loss_case("dapo", 0.04, 0.2, 0.2, False, 0, 1),
    grpo_loss_case("grpo", 0.04, 0.2, 0.2, True, 0, 2),
    grpo_loss_case("bnpo", 0.1, 0.2, 0.2, True, 0, 3),
    grpo_loss_case("dr_grpo", 0.04, 0.2, 0.2, True, 0, 1),
]

# ---------------------------------------------------------------- RLOO loss (rloo_trainer.py 1655-1724)
def rloo_loss_case(eps_low, eps_high):
    B = 6
    S = rand(B, lo=-20.0, hi=-2.0)
    S_old = S + torch.tensor([0.5, -0.5, 0.05, -0.05, 0.3, -0.3])
    adv = torch.tensor([1.0, -1.0, 0.5, -0.2, -0.8, 0.7])
    logps = S.clone().requires_grad_(True)
    old_logps = S_old
    log_ratio = logps - old_logps
    advantages = adv
    coef_1 = torch.exp(log_ratio)
    coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
    per_sequence_loss1 = coef_1 * advantages
    per_sequence_loss2 = coef_2 * advantages
    per_sequence_loss = -torch.min(per_sequence_loss1, per_sequence_loss2)
    loss = per_sequence_loss.mean()
    loss.backward()
    is_low_clipped = (coef_1 < 1 - eps_low) & (advantages < 0)
    is_high_clipped = (coef_1 > 1 + eps_high) & (advantages > 0)
    is_region_clipped = is_low_clipped | is_high_clipped
    ent = rand(B, lo=1.0, hi=9.0)
    cnt = torch.tensor([3.0, 5.0, 1.0, 4.0, 2.0, 6.0])
    metrics = {
        "entropy": (ent.sum() / cnt.sum().clamp(min=1.0)).item(),
        "clip_ratio/low_mean": is_low_clipped.float().nanmean().item(), "clip_ratio/low_min": nanmin(is_low_clipped.float()).item(),
        "clip_ratio/high_mean": is_high_clipped.float().nanmean().item(), "clip_ratio/high_max": nanmax(is_high_clipped.float()).item(),
        "clip_ratio/region_mean": is_region_clipped.float().nanmean().item(),
    }
    return {"epsilonLow": eps_low, "epsilonHigh": eps_high, "logpSums": L(S), "oldLogpSums": L(S_old), "advantages": L(adv),
            "entropySums": L(ent), "tokenCounts": L(cnt), "loss": loss.item(), "dLogpSums": L(logps.grad), "metrics": metrics}


out["rlooLoss"] = [rloo_loss_case(0.2, 0.2), rloo_loss_case(0.1, 0.4)]

# ---------------------------------------------------------------- PPO (ppo_trainer.py 700-886)
def ppo_case(responses_list, eos, pad, stop_token_id, kl_coef, kl_estimator, missing_eos_penalty, whiten_rewards, gamma=1.0, lam=0.95):
    INVALID_LOGPROB = 1.0
    responses = torch.tensor(responses_list)
    B, T = responses.shape
    logprobs = rand(B, T, lo=-4.0, hi=-0.05)
    ref_logprobs = logprobs + rand(B, T, lo=-0.6, hi=0.6)
    values = rand(B, T, lo=-1.0, hi=1.0)
    scores = rand(B, lo=-2.0, hi=2.0)
    raw = {"responses": L(responses.flatten()), "logprobs": L(logprobs.flatten()), "refLogprobs": L(ref_logprobs.flatten()),
           "values": L(values.flatten()), "scores": L(scores)}
    # Response Processing 1. (718-723)
    postprocessed_responses = responses
    if stop_token_id is not None:
        postprocessed_responses = truncate_response(stop_token_id, pad, responses)
    sequence_lengths = first_true_indices(postprocessed_responses == pad) - 1
    # 3. (753-756)
    contain_eos_token = torch.any(postprocessed_responses == eos, dim=-1)
    if missing_eos_penalty is not None:
        scores[~contain_eos_token] -= missing_eos_penalty
    # (759-766)
    response_idxs = torch.arange(responses.shape[1]).repeat(responses.shape[0], 1)
    padding_mask = response_idxs > sequence_lengths.unsqueeze(1)
    logprobs = torch.masked_fill(logprobs, padding_mask, INVALID_LOGPROB)
    ref_logprobs = torch.masked_fill(ref_logprobs, padding_mask, INVALID_LOGPROB)
    sequence_lengths_p1 = sequence_lengths + 1
    padding_mask_p1 = response_idxs > (sequence_lengths_p1.unsqueeze(1))
    values = torch.masked_fill(values, padding_mask_p1, 0)
    # 4. (768-776)
    logr = ref_logprobs - logprobs
    kl = -logr if kl_estimator == "k1" else (logr.exp() - 1) - logr
    non_score_reward = -kl_coef * kl
    rewards = non_score_reward.clone()
    actual_start = torch.arange(rewards.size(0))
    actual_end = torch.where(sequence_lengths_p1 < rewards.size(1), sequence_lengths_p1, sequence_lengths)
    rewards[actual_start, actual_end] += scores
    # 5. (779-781)
    if whiten_rewards:
        rewards = masked_whiten(rewards, mask=~padding_mask_p1, shift_mean=False)
        rewards = torch.masked_fill(rewards, padding_mask_p1, 0)
    # 6. (784-796)
    lastgaelam = 0
    advantages_reversed = []
    gen_length = responses.shape[1]
    for t in reversed(range(gen_length)):
        nextvalues = values[:, t + 1] if t < gen_length - 1 else 0.0
        delta = rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1], axis=1)
    returns = advantages + values
    advantages = masked_whiten(advantages, ~padding_mask)
    advantages = torch.masked_fill(advantages, padding_mask, 0)

    # one PPO micro-batch over rows [0, 2, 3] (808-858), cliprange 0.2, cliprange_value 0.2, vf_coef 0.1
    cliprange, cliprange_value, vf_coef = 0.2, 0.2, 0.1
    inds = torch.tensor([0, 2, 3])
    logits = rand(len(inds), T, 7, lo=-3.0, hi=3.0)
    new_raw = (logprobs[inds] + rand(len(inds), T, lo=-0.35, hi=0.35)).clone().requires_grad_(True)
    vpred_raw = (values[inds] + rand(len(inds), T, lo=-0.4, hi=0.4)).clone().requires_grad_(True)
    mb_advantage = advantages[inds]
    mb_logprobs = logprobs[inds]
    mb_return = returns[inds]
    mb_values = values[inds]
    new_logprobs = torch.masked_fill(new_raw, padding_mask[inds], INVALID_LOGPROB)
    vpred = torch.masked_fill(vpred_raw, padding_mask_p1[inds], 0)
    vpredclipped = torch.clamp(vpred, mb_values - cliprange_value, mb_values + cliprange_value)
    vf_losses1 = torch.square(vpred - mb_return)
    vf_losses2 = torch.square(vpredclipped - mb_return)
    vf_loss_max = torch.max(vf_losses1, vf_losses2)
    vf_loss = 0.5 * masked_mean(vf_loss_max, ~padding_mask_p1[inds])
    vf_clipfrac = masked_mean((vf_losses2 > vf_losses1).float(), ~padding_mask_p1[inds])
    logprobs_diff = new_logprobs - mb_logprobs
    ratio = torch.exp(logprobs_diff)
    pg_losses = -mb_advantage * ratio
    pg_losses2 = -mb_advantage * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    pg_loss_max = torch.max(pg_losses, pg_losses2)
    pg_loss = masked_mean(pg_loss_max, ~padding_mask[inds])
    loss = pg_loss + vf_coef * vf_loss
    loss.backward()
    pg_clipfrac = masked_mean((pg_losses2 > pg_losses).float(), ~padding_mask[inds])
    prob_dist = torch.nn.functional.softmax(logits, dim=-1)
    entropy = torch.logsumexp(logits, dim=-1) - torch.sum(prob_dist * logits, dim=-1)
    approxkl = 0.5 * (logprobs_diff**2).mean()
    # metrics (862-880)
    mean_kl = kl.sum(1).mean()
    mean_entropy = (-logprobs).sum(1).mean()
    mean_non_score_reward = non_score_reward.sum(1).mean()
    rlhf_reward = mean_non_score_reward + scores.mean()
    return {
        "B": B, "T": T, "eos": eos, "pad": pad, "stopTokenId": stop_token_id, "klCoef": kl_coef, "klEstimator": kl_estimator,
        "missingEosPenalty": missing_eos_penalty, "whitenRewards": whiten_rewards, **raw,
        "sequenceLengths": L(sequence_lengths), "responseMask": L((~padding_mask).double().flatten()), "valueMask": L((~padding_mask_p1).double().flatten()),
        "postprocessed": L(postprocessed_responses.flatten()),
        "maskedLogprobs": L(logprobs.flatten()), "maskedValues": L(values.flatten()), "penalisedScores": L(scores),
        "rewards": L(rewards.flatten()), "advantages": L(advantages.flatten()), "returns": L(returns.flatten()),
        "metrics": {
            "objective/kl": mean_kl.item(), "objective/entropy": mean_entropy.item(), "objective/non_score_reward": mean_non_score_reward.item(),
            "objective/rlhf_reward": rlhf_reward.item(), "objective/scores": scores.mean().item(),
            "val/num_eos_tokens": (responses == eos).sum().item(),
        },
        "micro": {
            "rows": L(inds), "newLogprobs": L(new_raw.flatten()), "vpred": L(vpred_raw.flatten()), "entropies": L(entropy.flatten()),
            "loss": loss.item(), "coefLogp": L(new_raw.grad.flatten()), "dValue": L(vpred_raw.grad.flatten()),
            "stats": {"approxkl": approxkl.item(), "pgClipfrac": pg_clipfrac.item(), "pgLoss": pg_loss.item(), "vfLoss": vf_loss.item(),
                      "vfClipfrac": vf_clipfrac.item(), "entropy": entropy.mean().item(), "ratio": ratio.mean().item()},
        },
    }


RESP = [
    [5, 6, 2, 7, 8, 9, 4],    # EOS in the middle, tokens after it (stop truncation replaces them)
    [5, 6, 7, 8, 9, 4, 3],    # no EOS: truncated
    [2, 5, 5, 5, 5, 5, 5],    # EOS first
    [5, 6, 7, 8, 9, 4, 2],    # EOS last
    [5, 2, 0, 0, 0, 0, 0],    # generator padding (pad = 0) after EOS
]
out["ppo"] = [
    ppo_case(RESP, 2, 0, 2, 0.05, "k1", None, False),
    ppo_case(RESP, 2, 0, 2, 0.05, "k3", 1.0, True),
    ppo_case([[r if r != 0 else 2 for r in row] for row in RESP], 2, 2, 2, 0.1, "k1", 0.5, False),  # PAD = EOS (GPT-2)
    ppo_case(RESP, 2, 0, None, 0.05, "k1", None, False),  # TRL default stop_token=None
]

# ---------------------------------------------------------------- warpers (transformers logits_process.py)
def warp(scores, temperature, top_k, top_p, min_tokens_to_keep=1):
    scores = scores.clone().unsqueeze(0)
    if temperature != 1.0:
        scores = scores / temperature
    if top_k != 0:
        k = min(max(top_k, min_tokens_to_keep), scores.size(-1))
        indices_to_remove = scores < torch.topk(scores, k)[0][..., -1, None]
        scores = scores.masked_fill(indices_to_remove, -float("inf"))
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(scores, descending=False, stable=True)
        cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
        sorted_indices_to_remove[..., -min_tokens_to_keep:] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
        scores = scores.masked_fill(indices_to_remove, -float("inf"))
    return [None if v == -float("inf") else v for v in scores[0].tolist()]


row = rand(12, lo=-2.0, hi=3.0)
row[3] = row[7]  # a tie
out["warpers"] = [
    {"logits": L(row), "temperature": t, "topK": k, "topP": p, "scores": warp(row, t, k, p)}
    for (t, k, p) in [(1.0, 0, 1.0), (0.7, 0, 1.0), (1.0, 4, 1.0), (1.0, 0, 0.8), (0.7, 5, 0.6), (1.3, 3, 0.95), (1.0, 0, 0.0), (0.5, 20, 0.9)]
]

json.dump(out, sys.stdout, indent=None, separators=(",", ":"), allow_nan=False)
print()
