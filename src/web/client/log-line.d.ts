/** Types of log-line.js (shared by the browser and the server pages). */
export interface AnsiSegment {
  text: string;
  /** 0–15: the palette (a CSS class); `#rrggbb`: an exact colour. */
  fg?: number | string;
  bg?: number | string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export declare function collapseCarriageReturns(text: string): string;
export declare function groupMarker(
  text: string,
): { kind: 'start'; title: string } | { kind: 'end' } | null;
export declare function parseAnsi(text: string): AnsiSegment[];
export declare function plainText(text: string): string;
export declare function segmentPresentation(segment: AnsiSegment): {
  className: string;
  style: string;
};
