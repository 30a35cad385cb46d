import { useEffect, useState } from 'react';
import { decimalNumber } from '../../util/number';

interface Props {
  label: string;
  ariaLabel?: string;
  value: number | null;
  min?: number;
  step?: number;
  /** null allowed (an empty field): "default". */
  nullable?: boolean;
  placeholder?: string;
  onChange(v: number): void;
  onClear?(): void;
}

// A number input that keeps what the user types until it parses (so "0." or "1e-" can be typed).
export function NumberField({ label, ariaLabel, value, min, step, nullable, placeholder, onChange, onClear }: Props) {
  const [text, setText] = useState(value === null ? '' : String(value));
  useEffect(() => {
    setText((t) => (decimalNumber(t) === value ? t : value === null ? '' : String(value)));
  }, [value]);
  return (
    <label>
      {label}{' '}
      <input
        className="num"
        inputMode="decimal"
        aria-label={ariaLabel ?? label}
        value={text}
        placeholder={placeholder}
        min={min}
        step={step}
        aria-invalid={text.trim() !== '' && decimalNumber(text) === null}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '' && nullable) onClear?.();
          else if (decimalNumber(t) !== null) onChange(decimalNumber(t)!);
        }}
      />
    </label>
  );
}
