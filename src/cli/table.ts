import { escapeControls } from '../core/sanitize.js';
import { cutEnd, cutStart } from '../core/format.js';

/** One column of a {@link fitTable}. */
export interface Column {
  header: string;
  /** Never narrower than this when shrinking (default: the header's width). */
  min?: number;
  /** Never wider than this (default: no cap). */
  max?: number;
  /** Shrink order: lower shrinks first; columns without it keep their width. */
  shrink?: number;
  /** Cut from the left (paths) instead of the right. */
  cutLeft?: boolean;
  /** Colour for a cell, applied after padding so it does not count in the width. */
  paint?: (cell: string, row: number) => string;
}

/**
 * Lays out rows as aligned columns. With `width` (a terminal) the table fits it: shrinkable columns
 * give up width in their `shrink` order down to their `min`, and cells are cut with `…`. The last
 * column is not padded. Cells are escaped first ({@link escapeControls}) so widths are what is shown.
 */
export function fitTable(columns: Column[], rows: string[][], o: { width?: number; indent?: string } = {}): string[] {
  const indent = o.indent ?? '';
  const cells = rows.map((r) => columns.map((_, i) => escapeControls(r[i] ?? '').replace(/\s+/g, ' ').trim()));
  const widths = columns.map((c, i) => Math.min(c.max ?? Infinity, Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length))));
  if (o.width !== undefined) {
    const total = (): number => indent.length + widths.reduce((a, b) => a + b, 0) + columns.length - 1;
    const order = columns.map((c, i) => ({ c, i })).filter(({ c }) => c.shrink !== undefined).sort((a, b) => (a.c.shrink ?? 0) - (b.c.shrink ?? 0));
    for (const { c, i } of order) {
      const over = total() - o.width;
      if (over <= 0) break;
      const min = Math.min(widths[i] ?? 0, c.min ?? c.header.length);
      widths[i] = Math.max(min, (widths[i] ?? 0) - over);
    }
  }
  const cut = (s: string, i: number): string => {
    const w = widths[i] ?? 0;
    return columns[i]?.cutLeft ? cutStart(s, w) : cutEnd(s, w);
  };
  const line = (r: string[], row: number | undefined): string =>
    indent +
    columns
      .map((c, i) => {
        const s = cut(r[i] ?? '', i);
        const padded = i === columns.length - 1 ? s : s.padEnd(widths[i] ?? 0);
        return row !== undefined && c.paint ? c.paint(padded, row) : padded;
      })
      .join(' ')
      .trimEnd();
  return [line(columns.map((c) => c.header), undefined), ...cells.map((r, n) => line(r, n))];
}
