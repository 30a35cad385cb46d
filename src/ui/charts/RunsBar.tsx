import { useApp } from '../../store';
import type { PassView, RunView } from '../../store/events';
import { progressText, type PassPhase } from '../../train/progress';
import { formatEta } from '../format';

const STATUS: Record<RunView['status'], string> = { queued: 'queued', preparing: 'preparing', running: 'training', paused: 'paused', done: 'done', stopped: 'stopped', failed: 'failed' };

function RunRow({ run }: { run: RunView }) {
  const pause = useApp((s) => s.pauseRun);
  const resume = useApp((s) => s.resumeRun);
  const stop = useApp((s) => s.stopRun);
  const live = useApp((s) => s.session?.live ?? false);
  const active = !['done', 'stopped', 'failed'].includes(run.status);
  return (
    <li className={`run run-${run.status}`}>
      <span className="swatch" style={{ background: run.color }} aria-hidden="true" />
      <strong className="run-label">{run.label}</strong>
      <progress aria-label={`${run.label} progress`} max={run.total} value={run.step} />
      <span aria-label={`${run.label} status`} role="status">
        {STATUS[run.status]} · step {run.step}/{run.total}
        {run.tokensPerSecond ? ` · ${run.tokensPerSecond.toFixed(run.tokensPerSecond < 100 ? 1 : 0)} tokens/s` : ''}
        {run.status === 'running' && run.etaSeconds !== undefined ? ` · ETA ${formatEta(run.etaSeconds)}` : ''}
        {run.checkpointStep > 0 ? ` · checkpoint at ${run.checkpointStep}` : ''}
      </span>
      <span className="run-buttons">
        {run.status === 'running' && live && (
          <button type="button" onClick={() => void pause(run.id)} aria-label={`Pause ${run.label}`}>
            Pause
          </button>
        )}
        {run.status === 'paused' && live && (
          <button type="button" onClick={() => void resume(run.id)} aria-label={`Resume ${run.label}`}>
            Resume
          </button>
        )}
        {active && (
          <button type="button" onClick={() => void stop(run.id)} aria-label={`Stop ${run.label}`}>
            Stop
          </button>
        )}
      </span>
      {run.message && (
        <p className={run.status === 'failed' ? 'notice error' : 'muted'} role={run.status === 'failed' ? 'alert' : undefined}>
          {run.message}
        </p>
      )}
    </li>
  );
}

const PASS_NAMES: Record<PassPhase, string> = { reference: 'Reference log-probs', eval: 'eval pass', table: 'Per-pair table', logps: 'Log-probs' };

/** A pass over the whole data set: a progress bar with done / total, time spent and left. */
function PassBar({ pass, runs }: { pass: PassView; runs: RunView[] }) {
  const run = pass.runId === undefined ? undefined : runs.find((r) => r.id === pass.runId);
  const name = run ? `${run.label} ${PASS_NAMES[pass.phase]}` : PASS_NAMES[pass.phase];
  return (
    <div className="pass-progress">
      <span className="pass-name">{name}</span>
      <progress aria-label={`${name} progress`} max={pass.total} value={pass.done} />
      <span role="status" aria-label="Pass progress">
        {progressText(pass)}
      </span>
    </div>
  );
}

/** Pause, resume and stop every run: beside Start in the run controls (RunControls). */
export function AllRunsButtons() {
  const runs = useApp((s) => s.runs);
  const live = useApp((s) => s.session?.live ?? false);
  const pause = useApp((s) => s.pauseRun);
  const resume = useApp((s) => s.resumeRun);
  const stop = useApp((s) => s.stopRun);
  const anyRunning = runs.some((r) => r.status === 'running');
  const anyPaused = runs.some((r) => r.status === 'paused');
  const anyActive = runs.some((r) => !['done', 'stopped', 'failed'].includes(r.status));
  if (!anyRunning && !anyPaused && !anyActive) return null;
  return (
    <span className="all-runs">
      {anyRunning && live && (
        <button type="button" onClick={() => void pause()}>
          Pause all
        </button>
      )}
      {anyPaused && (
        <button type="button" onClick={() => void resume()}>
          {live ? 'Resume all' : 'Resume from checkpoints'}
        </button>
      )}
      {anyActive && (
        <button type="button" onClick={() => void stop()}>
          Stop all
        </button>
      )}
    </span>
  );
}

// Progress of every run (README.md), one line each with its own controls; the controls for all
// runs sit beside Start (AllRunsButtons).
export function RunsBar() {
  const runs = useApp((s) => s.runs);
  const phase = useApp((s) => s.phase);
  const phaseMessage = useApp((s) => s.phaseMessage);
  const live = useApp((s) => s.session?.live ?? false);
  const cancel = useApp((s) => s.cancelStart);
  const pass = useApp((s) => s.progress);
  if (!runs.length)
    return <p className="muted">{phase === 'idle' && phaseMessage ? phaseMessage : 'No runs yet: press Start above. The curves of every run appear here as they train, one colour per run.'}</p>;
  const starting = live && (phase === 'loading-data' || phase === 'reference');
  return (
    <div className="runs-bar">
      {phase !== 'training' && phase !== 'idle' && phase !== 'error' && (
        <div className="row">
          <p role="status" aria-label="Comparison status">
            {phaseMessage}
          </p>
          {starting && (
            <button type="button" onClick={() => void cancel()}>
              Cancel
            </button>
          )}
        </div>
      )}
      {pass && <PassBar pass={pass} runs={runs} />}
      <ul className="runs" aria-label="Runs">
        {runs.map((r) => (
          <RunRow key={r.id} run={r} />
        ))}
      </ul>
    </div>
  );
}
