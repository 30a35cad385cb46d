import { useApp } from '../store';

// Which GPU the engine found, or why there is none and how to fix it; a one-click correctness
// check of the kernels on this device; and a way to rehearse recovery from a lost device.
export function GpuPanel() {
  const gpu = useApp((s) => s.gpu);
  const selfTest = useApp((s) => s.selfTest);
  const runSelfTest = useApp((s) => s.runSelfTest);
  const simulateDeviceLoss = useApp((s) => s.simulateDeviceLoss);
  const hasRuns = useApp((s) => s.runs.length > 0);

  if (gpu.state === 'checking') {
    return (
      <section className="gpu-panel" aria-label="GPU status">
        <p role="status">Looking for a WebGPU adapter…</p>
      </section>
    );
  }
  if (gpu.state === 'unavailable' || gpu.state === 'lost') {
    return (
      <section className="gpu-panel gpu-missing" aria-label="GPU status">
        <h2>{gpu.state === 'lost' ? 'The GPU device was lost' : 'WebGPU is not available'}</h2>
        <p role="status">{gpu.reason}</p>
        {'hints' in gpu && gpu.hints.length > 0 && (
          <ul>
            {gpu.hints.map((h) => (
              <li key={h}>{h}</li>
            ))}
          </ul>
        )}
        <p className="muted">
          {gpu.state === 'lost'
            ? hasRuns
              ? 'Runs are paused. Press Resume to get a new device and continue from each run’s last checkpoint.'
              : 'A new device is requested when you start training.'
            : 'Training needs WebGPU. Data preview and the formula explorer work without it.'}
        </p>
      </section>
    );
  }
  const a = gpu.adapter;
  return (
    <section className="gpu-panel gpu-ready" aria-label="GPU status">
      <div className="gpu-line">
        <p role="status">
          GPU: <strong data-testid="adapter-name">{a.description || a.device || a.architecture || a.vendor || 'WebGPU adapter'}</strong>{' '}
          <span className="muted">
            ({[a.vendor, a.architecture].filter(Boolean).join(' · ') || 'unknown vendor'}
            {a.isFallbackAdapter ? ', software' : ''})
          </span>
        </p>
        <span className="selftest">
          <button type="button" onClick={() => void runSelfTest()} disabled={selfTest.state === 'running'} title="Runs a matmul forward and backward on this GPU and compares it with float64">
            Check GPU
          </button>
          <output aria-label="GPU check result" data-ok={selfTest.state === 'done' ? String(selfTest.result.ok) : undefined}>
            {selfTest.state === 'running' && 'Running matmul forward and backward on the GPU…'}
            {selfTest.state === 'done' && `${selfTest.result.ok ? '✓' : '✗'} ${selfTest.result.message}`}
            {selfTest.state === 'error' && `✗ ${selfTest.message}`}
          </output>
        </span>
      </div>
      <details>
        <summary>Features and limits</summary>
        <p>{a.features.join(', ') || 'no optional features'}</p>
        <table>
          <tbody>
            {Object.entries(a.limits).map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{v.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          <button type="button" onClick={() => void simulateDeviceLoss()}>
            Simulate device loss
          </button>{' '}
          <span className="muted">Destroys the GPU device as a driver reset would: running comparisons pause and resume from their last checkpoint.</span>
        </p>
      </details>
    </section>
  );
}
