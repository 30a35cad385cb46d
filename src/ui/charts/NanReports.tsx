import { useApp } from '../../store';
import { NEAR_ZERO_LOGP, type NanSide } from '../../train/objectives';
import type { RunView } from '../../store/events';

const num = (x: number) => (x === 0 ? '0' : Number.isFinite(x) ? (Math.abs(x) >= 1e-3 ? x.toFixed(4) : x.toExponential(2)) : String(x));

/** One completion as a strip of tokens, each with its log-prob; near-0 and non-finite ones marked. */
function Strip({ side }: { side: NanSide }) {
  return (
    <div className="nan-side">
      <p>
        <strong>{side.label}</strong>: S = {num(side.sum)}, A = S/|y| = {num(side.avg)}, log(1 − e^A) = {num(side.log1mexp)}
        {side.ref !== undefined && <>, S_ref = {num(side.ref)}</>} · {side.nearZero} of {side.tokens.length} tokens near 0
      </p>
      <div className="tok-strip" role="list" aria-label={`${side.label} tokens and log-probs`}>
        {side.tokens.map((t, i) => {
          const v = side.logps[i];
          const cls = !Number.isFinite(v) ? 'tok tok-bad' : v > NEAR_ZERO_LOGP ? 'tok tok-near0' : 'tok';
          return (
            <span key={i} className={cls} role="listitem" title={`log p = ${v}`}>
              <span className="tok-text">{t === '' ? '·' : t.replace(/ /g, '␣').replace(/\n/g, '↵')}</span>
              <small>{num(v)}</small>
            </span>
          );
        })}
      </div>
    </div>
  );
}

function Report({ run }: { run: RunView }) {
  const r = run.nan!;
  return (
    <section aria-labelledby={`nan-${run.id}`} className="nan-report notice error">
      <h3 id={`nan-${run.id}`}>
        Why {run.label} stopped at step {r.step}
      </h3>
      <p className="muted">The NaN guard stopped it before applying the update: {r.message}.</p>
      {r.explanation.map((e) => (
        <p key={e}>{e}</p>
      ))}
      {r.examples.map((ex) => (
        <div key={`${ex.index}-${ex.sides[0]?.label}`} className="nan-example">
          <p>
            <strong>{ex.line !== undefined ? `Line ${ex.line}` : `Example ${ex.index}`}</strong>, prompt “{ex.prompt}”: per-token log-probs under the weights of the failing update (highlighted: above {NEAR_ZERO_LOGP}, probability ≈ 1; red: not finite).
          </p>
          {ex.sides.map((s) => (
            <Strip key={s.label} side={s} />
          ))}
        </div>
      ))}
    </section>
  );
}

// Guards explained (README.md): a run the NaN guard stopped, with its examples' per-token
// log-probs and the term that overflowed (src/train/objectives/nan-explain.ts).
export function NanReports() {
  const runs = useApp((s) => s.runs);
  const stopped = runs.filter((r) => r.nan);
  return stopped.length ? (
    <>
      {stopped.map((r) => (
        <Report key={r.id} run={r} />
      ))}
    </>
  ) : null;
}
