import { useApp } from '../../store';
import { klNote } from '../../store/kl-note';
import { runMethod } from '../../store/presets';
import { methodDescriptor } from '../../train/objectives';

// KTO's kl explained (README.md): a note for each KTO run whose kl has stayed at 0 (or whose batch
// size makes the estimate meaningless), under the charts.
export function KlNotes() {
  const runs = useApp((s) => s.runs);
  const session = useApp((s) => s.session);
  // only KTO's kl is this estimate (GRPO and RLOO log a `kl` to the reference under the same name)
  const notes = runs
    .filter((r) => {
      const m = runMethod(r);
      return m === null || methodDescriptor(m).data === 'unpaired';
    })
    .map((r) => {
      const card = session?.cards.find((c) => c.id === r.id);
      return klNote(r.label, r.train, { lossType: card?.values.lossType, batchSize: session?.settings.batchSize });
    })
    .filter((n): n is string => n !== null);
  return notes.length ? (
    <div className="kl-notes" aria-label="KTO kl notes">
      {notes.map((n) => (
        <p key={n} className="notice warn" role="note">
          {n}
        </p>
      ))}
    </div>
  ) : null;
}
