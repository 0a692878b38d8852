'use client';

/**
 * Every table of the dashboard: a caption, one header row and the body, inside a scroll region
 * that says when it scrolls. A table wider than its place (the fleet table on a phone) scrolls
 * sideways inside its region, never the page, and then shows it three ways, because scrollbars
 * are hidden until touched on phones and Macs (and in headless test browsers):
 *   - a line of text above the table, "Scroll sideways to see every column";
 *   - a shade on each edge that has more columns behind it;
 *   - the region becomes a keyboard stop named by the caption (arrow keys scroll it: WCAG 2.1.1).
 */
import {
  type ReactNode,
  type TableHTMLAttributes,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';

export interface Column {
  label: ReactNode;
  /** Right-aligned (numbers line up on their decimal point with tabular figures). */
  numeric?: boolean;
}

/** A header without options is its label. */
export type ColumnSpec = string | Column;

/** A right-aligned column of numbers. */
export function numeric(label: string): Column {
  return { label, numeric: true };
}

export function DataTable({
  caption,
  columns,
  children,
  className = 'data-table',
  ...table
}: Omit<TableHTMLAttributes<HTMLTableElement>, 'children'> & {
  caption: ReactNode;
  columns: readonly ColumnSpec[];
  /** The rows. */
  children: ReactNode;
}) {
  const captionId = useId();
  return (
    <TableScroll labelledBy={captionId}>
      <table className={className} {...table}>
        <caption id={captionId}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((spec) => {
              const column = typeof spec === 'string' ? { label: spec } : spec;
              return (
                <th key={String(column.label)} scope="col" className={column.numeric ? 'num' : undefined}>
                  {column.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableScroll>
  );
}

/**
 * A region that scrolls is a landmark named by its table's caption and a keyboard stop, so arrow
 * keys can scroll it (axe: scrollable-region-focusable); one that does not is neither, to keep
 * landmarks and the tab order free of noise.
 */
function scrollingRegion(labelledBy: string) {
  return { role: 'region', 'aria-labelledby': labelledBy, tabIndex: 0 } as const;
}

/** Less than a pixel left over is rounding (zoom, fractional widths), not a hidden column. */
const SLACK_PX = 1;

function TableScroll({ labelledBy, children }: { labelledBy: string; children: ReactNode }) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);

  // After every render and before the browser paints: the hint then appears in the same frame as
  // the rows that made the table too wide, so nothing below it jumps (layout shift).
  useLayoutEffect(() => {
    const el = viewport.current!;
    setScrolls(el.scrollWidth - el.clientWidth > SLACK_PX);
  });

  // The edge shades follow the scroll position, set on the element directly: a React render per
  // scroll event would cost a phone frames.
  useEffect(() => {
    const el = viewport.current!;
    const frame = el.parentElement!;
    const shade = () => {
      const hidden = el.scrollWidth - el.clientWidth;
      frame.dataset.moreStart = String(hidden > SLACK_PX && el.scrollLeft > SLACK_PX);
      frame.dataset.moreEnd = String(hidden > SLACK_PX && el.scrollLeft < hidden - SLACK_PX);
    };
    const resized = new ResizeObserver(() => {
      shade();
      setScrolls(el.scrollWidth - el.clientWidth > SLACK_PX);
    });
    resized.observe(el);
    if (el.firstElementChild) resized.observe(el.firstElementChild);
    el.addEventListener('scroll', shade, { passive: true });
    shade();
    return () => {
      resized.disconnect();
      el.removeEventListener('scroll', shade);
    };
  }, []);

  return (
    <>
      {scrolls && (
        <p className="scroll-hint" data-scroll-hint="">
          <span aria-hidden="true">⇆ </span>Scroll sideways to see every column
        </p>
      )}
      <div className="table-scroll">
        <div
          ref={viewport}
          className="table-scroll__viewport"
          {...(scrolls ? scrollingRegion(labelledBy) : {})}
        >
          {children}
        </div>
      </div>
    </>
  );
}
