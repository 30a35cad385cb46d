// Small formatters the page shares (pure, unit-tested in tests/unit/format.test.ts).

/**
 * Time left, rounded once to what a reader needs: seconds under a minute, minutes and seconds
 * under ten minutes, whole minutes under an hour, then hours and minutes. A rounded part that
 * reaches 60 carries into the next unit (179.6 s is "3 min", never "2 min 60 s"), and a zero
 * part is left out ("3 min", "1 h").
 */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}
