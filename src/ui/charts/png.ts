// A chart as a PNG file: its title and legend drawn on a canvas at 2× with a white background, then
// each SVG of the chart (one, or one per run), serialised and laid out in a grid.
import { markerPath, type LegendRun } from './series';

export interface PngOptions {
  title?: string;
  legend?: readonly LegendRun[];
  scale?: number;
}

async function svgImage(svg: SVGSVGElement): Promise<{ img: HTMLImageElement; width: number; height: number }> {
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return { img, width, height };
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function chartPng(svgs: readonly SVGSVGElement[], opts: PngOptions = {}): Promise<Blob> {
  const scale = opts.scale ?? 2;
  const imgs = await Promise.all(svgs.map(svgImage));
  const cols = Math.min(imgs.length, 3) || 1;
  const cellW = Math.max(1, ...imgs.map((i) => i.width));
  const cellH = Math.max(1, ...imgs.map((i) => i.height));
  const head = (opts.title ? 22 : 0) + (opts.legend?.length ? 20 : 0);
  const width = cols * cellW;
  const height = head + Math.ceil(imgs.length / cols) * cellH;
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(width * scale);
  canvas.height = Math.ceil(height * scale);
  const g = canvas.getContext('2d')!;
  g.scale(scale, scale);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  let y = 0;
  if (opts.title) {
    g.fillStyle = '#111';
    g.font = 'bold 13px system-ui, sans-serif';
    g.fillText(opts.title, 8, 16);
    y += 22;
  }
  if (opts.legend?.length) {
    let x = 8;
    g.font = '12px system-ui, sans-serif';
    for (const r of opts.legend) {
      g.strokeStyle = r.color;
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(x, y + 9);
      g.lineTo(x + 18, y + 9);
      g.stroke();
      g.fillStyle = '#fff';
      const p = new Path2D(markerPath(r.marker, x + 9, y + 9, 4));
      g.fill(p);
      g.lineWidth = 1.5;
      g.stroke(p);
      g.fillStyle = '#111';
      g.fillText(r.label, x + 22, y + 13);
      x += 30 + g.measureText(r.label).width;
    }
    y += 20;
  }
  imgs.forEach((im, k) => g.drawImage(im.img, (k % cols) * cellW, y + Math.floor(k / cols) * cellH, im.width, im.height));
  return await new Promise<Blob>((res, rej) => canvas.toBlob((b) => (b ? res(b) : rej(new Error('the canvas produced no PNG'))), 'image/png'));
}

/** One SVG as a PNG (no title or legend). */
export function svgToPng(svg: SVGSVGElement, scale = 2): Promise<Blob> {
  return chartPng([svg], { scale });
}
