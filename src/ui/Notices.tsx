import { useApp } from '../store';

// Messages that need the user's attention, each saying what to do next.
export function Notices() {
  const urlProblems = useApp((s) => s.urlProblems);
  const gpuNotice = useApp((s) => s.gpuNotice);
  const startError = useApp((s) => s.startError);
  const phase = useApp((s) => s.phase);
  const phaseMessage = useApp((s) => s.phaseMessage);
  const resume = useApp((s) => s.resumeRun);
  return (
    <div className="notices">
      {urlProblems.length > 0 && (
        <p className="notice warn" role="alert">
          Parts of this link’s configuration were ignored: {urlProblems.join('; ')}.
        </p>
      )}
      {gpuNotice && (
        <div className="notice error" role="alert">
          <p>{gpuNotice.message}</p>
          <button type="button" onClick={() => void resume()}>
            Resume from last checkpoint
          </button>
        </div>
      )}
      {startError && (
        <p className="notice error" role="alert">
          Cannot start yet: {startError}
        </p>
      )}
      {phase === 'error' && (
        <p className="notice error" role="alert">
          {phaseMessage}
        </p>
      )}
    </div>
  );
}
