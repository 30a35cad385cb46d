import { useEffect, useState } from 'react';

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
    setText((t) => (Number(t) === value && t.trim() !== '' ? t : value === null ? '' : String(value)));
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
        aria-invalid={text.trim() !== '' && !Number.isFinite(Number(text))}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '' && nullable) onClear?.();
          else if (t.trim() !== '' && Number.isFinite(Number(t))) onChange(Number(t));
        }}
      />
    </label>
  );
}
