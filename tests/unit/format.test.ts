import { describe, expect, it } from 'vitest';
import { formatEta } from '../../src/ui/format';

describe('formatEta', () => {
  it('rounds once, so no part reads 60', () => {
    expect(formatEta(179.6)).toBe('3 min');
    expect(formatEta(179.4)).toBe('2 min 59 s');
    expect(formatEta(125)).toBe('2 min 5 s');
    expect(formatEta(59.6)).toBe('1 min');
    expect(formatEta(3599.9)).toBe('1 h');
    expect(formatEta(3570)).toBe('1 h'); // 59.5 min rounds up to the hour
  });
  it('uses the unit a reader needs', () => {
    expect(formatEta(0)).toBe('0 s');
    expect(formatEta(0.4)).toBe('0 s');
    expect(formatEta(42.2)).toBe('42 s');
    expect(formatEta(60)).toBe('1 min');
    expect(formatEta(599)).toBe('9 min 59 s');
    expect(formatEta(600)).toBe('10 min');
    expect(formatEta(1234)).toBe('21 min');
    expect(formatEta(3600 + 5 * 60 + 10)).toBe('1 h 5 min');
    expect(formatEta(7200)).toBe('2 h');
  });
  it('says nothing for an unknown time', () => {
    expect(formatEta(undefined)).toBe('');
    expect(formatEta(Number.NaN)).toBe('');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('');
    expect(formatEta(-3)).toBe('0 s');
  });
});
