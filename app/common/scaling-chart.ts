/**
 * The scaling lab's chart, like the paper's Figures 1 and 5: accuracy against MACs (log scale),
 * the published B0–B7 (ImageNet top-1, paper Table 2) beside the user's candidates and family.
 * `scalingChartData` is plain JSON (the desktop app draws it itself); `renderScalingChartSvg`
 * writes the same data as a standalone SVG. Pure TypeScript.
 */
import { makeSpec, modelFacts, VARIANT_NAMES, VARIANTS } from './efficientnet/index.ts';

export interface ChartPoint {
  readonly label: string;
  readonly macs: number;
  /** Percent; null for a family member nobody has trained yet (drawn on the MACs strip only). */
  readonly accuracy: number | null;
  readonly highlight?: boolean;
}

export interface ChartSeries {
  readonly id: 'b-series' | 'candidates' | 'family';
  readonly label: string;
  readonly color: string;
  /** Points joined by a line (B-series, family) or scattered (candidates). */
  readonly line: boolean;
  readonly points: readonly ChartPoint[];
}

export interface ScalingChartData {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
}

export interface ChartInput {
  readonly title: string;
  readonly candidates: readonly { label: string; macs: number; accuracy: number | null; chosen: boolean }[];
  readonly family: readonly { phi: number; macs: number; accuracy: number | null }[];
}

/** B0–B7: MACs from our own architecture table at each variant's resolution, top-1 as published. */
export function bSeriesPoints(): ChartPoint[] {
  return VARIANT_NAMES.map((name) => ({
    label: name.toUpperCase(),
    macs: modelFacts(makeSpec(name)).macs,
    accuracy: VARIANTS[name].paperTop1,
  }));
}

export function scalingChartData(input: ChartInput): ScalingChartData {
  const percent = (a: number | null) => (a === null ? null : Math.round(a * 1000) / 10);
  return {
    title: input.title,
    xLabel: 'MACs per image (log scale)',
    yLabel: 'Accuracy (%)',
    series: [
      { id: 'b-series', label: 'EfficientNet B0–B7 (ImageNet top-1, paper)', color: '#6b7280', line: true, points: bSeriesPoints() },
      {
        id: 'candidates',
        label: 'Search candidates, φ = 1 (validation accuracy, your data)',
        color: '#2563eb',
        line: false,
        points: input.candidates.map((c) => ({ label: c.label, macs: c.macs, accuracy: percent(c.accuracy), highlight: c.chosen })),
      },
      {
        id: 'family',
        label: 'Your family, φ = 0…N (accuracy where trained)',
        color: '#dc2626',
        line: true,
        points: input.family.map((m) => ({ label: `φ=${m.phi}`, macs: m.macs, accuracy: percent(m.accuracy) })),
      },
    ],
  };
}

const WIDTH = 760;
const HEIGHT = 540;
const PLOT = { left: 70, right: 740, top: 50, bottom: 380 };
/** The strip under the plot where MACs without an accuracy are marked. */
const STRIP_Y = 420;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function formatMacs(macs: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, unit] of units) if (macs >= size) return `${Number((macs / size).toPrecision(3))}${unit}`;
  return String(Math.round(macs));
}

export function renderScalingChartSvg(chart: ScalingChartData): string {
  const all = chart.series.flatMap((s) => s.points);
  const logs = all.map((p) => Math.log10(p.macs));
  const xMin = Math.floor(Math.min(...logs));
  const xMax = Math.ceil(Math.max(...logs));
  const accuracies = all.map((p) => p.accuracy).filter((a): a is number => a !== null);
  const yMin = Math.max(0, Math.floor((Math.min(...accuracies) - 2) / 10) * 10);
  const yMax = 100;
  const x = (macs: number) => PLOT.left + ((Math.log10(macs) - xMin) / Math.max(1, xMax - xMin)) * (PLOT.right - PLOT.left);
  const y = (accuracy: number) => PLOT.bottom - ((accuracy - yMin) / (yMax - yMin)) * (PLOT.bottom - PLOT.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  for (let decade = xMin; decade <= xMax; decade++) {
    const px = x(10 ** decade).toFixed(1);
    out.push(`<line x1="${px}" y1="${PLOT.top}" x2="${px}" y2="${PLOT.bottom}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${px}" y="${PLOT.bottom + 16}" text-anchor="middle">${formatMacs(10 ** decade)}</text>`);
  }
  const yStep = yMax - yMin > 40 ? 10 : 5;
  for (let tick = yMin; tick <= yMax; tick += yStep) {
    const py = y(tick).toFixed(1);
    out.push(`<line x1="${PLOT.left}" y1="${py}" x2="${PLOT.right}" y2="${py}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${PLOT.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${tick}</text>`);
  }
  out.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#374151"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${STRIP_Y + 28}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(20 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
    `<text x="${PLOT.left - 8}" y="${STRIP_Y}" text-anchor="end" dominant-baseline="middle" fill="#6b7280">MACs</text>`,
    `<line x1="${PLOT.left}" y1="${STRIP_Y}" x2="${PLOT.right}" y2="${STRIP_Y}" stroke="#d1d5db"/>`,
  );
  for (const series of chart.series) {
    const known = series.points.filter((p) => p.accuracy !== null);
    if (series.line && known.length > 1) {
      const path = known.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.macs).toFixed(1)} ${y(p.accuracy!).toFixed(1)}`).join(' ');
      out.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    }
    for (const [index, point] of series.points.entries()) {
      const px = x(point.macs).toFixed(1);
      const title = `<title>${escapeXml(`${point.label}: ${formatMacs(point.macs)} MACs${point.accuracy === null ? '' : `, ${point.accuracy}%`}`)}</title>`;
      if (point.accuracy !== null) {
        const py = y(point.accuracy).toFixed(1);
        const r = point.highlight ? 7 : 4.5;
        const ring = point.highlight ? ` stroke="#111827" stroke-width="2"` : '';
        out.push(`<circle cx="${px}" cy="${py}" r="${r}" fill="${series.color}"${ring}>${title}</circle>`);
        // Family labels go under their points: φ = 1 sits exactly on the chosen candidate.
        const ly = Number(py) + (series.id === 'family' ? 18 : -9);
        out.push(
          `<text x="${px}" y="${ly.toFixed(1)}" text-anchor="middle" fill="${series.color}" font-size="10">${escapeXml(point.label)}</text>`,
        );
      }
      // Every point also on the MACs strip, so compute is comparable even where accuracy is unknown.
      const sy = STRIP_Y;
      out.push(
        `<rect x="${(Number(px) - 3.5).toFixed(1)}" y="${sy - 3.5}" width="7" height="7" fill="${series.color}" transform="rotate(45 ${px} ${sy})">${title}</rect>`,
      );
      if (point.accuracy === null) {
        // Alternate heights: neighbours on a log axis can be a few pixels apart.
        out.push(
          `<text x="${px}" y="${STRIP_Y - (index % 2 === 0 ? 8 : 18)}" text-anchor="middle" fill="${series.color}" font-size="10">${escapeXml(point.label)}</text>`,
        );
      }
    }
  }
  chart.series.forEach((series, i) => {
    const ly = STRIP_Y + 56 + i * 18;
    out.push(`<rect x="${PLOT.left}" y="${ly - 6}" width="12" height="12" fill="${series.color}"/>`);
    out.push(`<text x="${PLOT.left + 18}" y="${ly}" dominant-baseline="middle">${escapeXml(series.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
