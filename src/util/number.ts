// Numbers typed by people (CLI flags, URL values, form fields): decimal notation only, so
// `0x10`, `0b1`, `Infinity` or an empty string is refused rather than read as something else.
/**
 * A number written in decimal (digits, optional sign, decimal point, exponent), as the CLI's flags
 * and the page's URL take them; null for anything else: JavaScript's Number() would also read
 * "0x10" as 16, "0b1" as 1, "Infinity" and "" (as 0).
 */
export function decimalNumber(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}
