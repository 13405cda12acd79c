/**
 * Finds stop strings in generated text and decides how much text is safe to show: text that
 * could still turn out to be the start of a stop string is held back, so streamed deltas never
 * show part of a stop string.
 */
export class StopStringMatcher {
  constructor(private readonly stopStrings: readonly string[]) {}

  /** Index in `text` where the earliest stop string begins, or −1. */
  findStop(text: string): number {
    let earliest = -1;
    for (const stop of this.stopStrings) {
      const index = text.indexOf(stop);
      if (index !== -1 && (earliest === -1 || index < earliest)) earliest = index;
    }
    return earliest;
  }

  /** Length of the prefix of `text` that cannot be part of a stop string still being written. */
  safeLength(text: string): number {
    let holdBack = 0;
    for (const stop of this.stopStrings) {
      for (let length = Math.min(stop.length - 1, text.length); length > holdBack; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          holdBack = length;
          break;
        }
      }
    }
    return text.length - holdBack;
  }
}
