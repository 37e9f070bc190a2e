/**
 * One line of a step's output as kiln stores and shows it: masked, capped
 * in length, stamped with the time it was read.
 */
export interface LogLine {
  /** Position in the execution's log, from 0, across both streams. */
  seq: number;
  /** ISO-8601 UTC time the line was read. */
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}
