/**
 * The pause before a generator replaces a failed connection. Against a target that refuses at once a
 * replacement without pause would spin a core for the whole run and starve the target it measures.
 */

/** Milliseconds between a failed connection and its replacement. */
export const RECONNECT_DELAY_MS = 10;

/** Runs `open` after {@link RECONNECT_DELAY_MS} without holding the process open for it. */
export function reconnectLater(open: () => void): void {
  setTimeout(open, RECONNECT_DELAY_MS).unref();
}
