import { Bar, BarChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Histogram } from '../../worker/inspect';

// Token lengths (prompt + the longer completion, before truncation) with the max length marked;
// a prompts file: prompt lengths with the max prompt length marked.
export function LengthHistogram({ histogram: h, truncated, unit }: { histogram: Histogram; truncated: number; unit: 'pairs' | 'examples' | 'prompts' }) {
  const Unit = unit.charAt(0).toUpperCase() + unit.slice(1);
  const width = h.edges[0] ?? 1;
  const data = h.edges.map((e, i) => ({ bin: e - width / 2, label: `${e - width + 1}–${e}`, count: h.counts[i] }));
  return (
    <figure className="histogram">
      <figcaption>
        <h3>Token lengths</h3>
        <span className="muted">
          {unit === 'prompts' ? 'prompt' : unit === 'examples' ? 'prompt + completion' : 'prompt + longer completion'}, before truncation; {truncated} over the limit of {h.maxLength}
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={160}>
        <BarChart data={data} margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="bin" type="number" domain={[0, h.edges.at(-1) ?? 1]} tickFormatter={(v: number) => String(Math.round(v))} />
          <YAxis allowDecimals={false} width={36} />
          <Tooltip formatter={(v) => [v, unit]} labelFormatter={(_, p) => `${p?.[0]?.payload?.label ?? ''} tokens`} />
          <Bar dataKey="count" fill="#4e79a7" isAnimationActive={false} barSize={Math.max(2, 400 / data.length)} />
          <ReferenceLine x={h.maxLength} stroke="#e15759" strokeDasharray="4 3" label={{ value: unit === 'prompts' ? 'max prompt length' : 'max length', position: 'insideTopRight', fontSize: 11 }} />
        </BarChart>
      </ResponsiveContainer>
      <details>
        <summary>Token length data table</summary>
        <table>
          <caption>{Unit} per token-length bin</caption>
          <thead>
            <tr>
              <th scope="col">Tokens</th>
              <th scope="col">{Unit}</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.label}>
                <td>{d.label}</td>
                <td>{d.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
