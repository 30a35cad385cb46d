import { useApp } from '../../store';
import { klNote } from '../../store/kl-note';

// KTO's kl explained (README.md): a note for each KTO run whose kl has stayed at 0 (or whose batch
// size makes the estimate meaningless), under the charts.
export function KlNotes() {
  const runs = useApp((s) => s.runs);
  const session = useApp((s) => s.session);
  const notes = runs
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
