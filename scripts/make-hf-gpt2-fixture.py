# Regenerates tests/fixtures/hf-gpt2-tiny: a tiny random GPT2LMHeadModel saved by Hugging Face
# transformers (config.json + model.safetensors, `transformer.` prefixed names), and
# expected.json with torch float64 log-probs, mean logits and gradients of Σ coef·logp.
# The TypeScript float64 reference and the checkpoint loader are tested against it
# (tests/unit/hf-gpt2-fixture.test.ts). Needs python with torch and transformers:
#   python scripts/make-hf-gpt2-fixture.py
import json, os
import torch
from transformers import GPT2Config, GPT2LMHeadModel

out = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'hf-gpt2-tiny')
os.makedirs(out, exist_ok=True)
torch.manual_seed(20260501)
cfg = GPT2Config(vocab_size=13, n_positions=8, n_embd=8, n_layer=2, n_head=2, layer_norm_epsilon=1e-5,
                 bos_token_id=12, eos_token_id=12, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
model = GPT2LMHeadModel(cfg).eval()
# larger weights than the 0.02 init so attention, GELU and LayerNorm all bend the result
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith('ln_1.weight') or name.endswith('ln_2.weight') or name.endswith('ln_f.weight'):
            p.copy_(1 + 0.3 * torch.randn_like(p))
        else:
            p.copy_(0.5 * torch.randn_like(p))
model.save_pretrained(out, safe_serialization=True)

model64 = GPT2LMHeadModel.from_pretrained(out).double().eval()
seqs = [[12, 3, 7, 7, 0, 11, 2, 5], [4, 9], [6], [12, 1, 2, 3, 10]]
coef = [[((s * 7 + t * 3) % 5 - 2) / 2 for t in range(len(q) - 1)] for s, q in enumerate(seqs)]
logp, mean_logit = [], []
model64.zero_grad()
total = torch.zeros((), dtype=torch.float64)
for q, k in zip(seqs, coef):
    ids = torch.tensor([q])
    logits = model64(ids).logits[0]  # (T, V)
    lp = torch.log_softmax(logits, dim=-1)
    picked = lp[:-1].gather(1, ids[0, 1:, None])[:, 0] if len(q) > 1 else lp[:0, 0]
    logp.append(picked.tolist())
    mean_logit.append(logits[:-1].mean(dim=-1).tolist())
    total = total + (picked * torch.tensor(k, dtype=torch.float64)).sum()
total.backward()
grads = {}
for name, p in model64.named_parameters():
    grads[name.removeprefix('transformer.')] = p.grad.flatten().tolist()
with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump({'seqs': seqs, 'coef': coef, 'logp': logp, 'meanLogit': mean_logit, 'grads': grads,
               'torch': torch.__version__, 'transformers': __import__('transformers').__version__}, f)
print('wrote', out)
