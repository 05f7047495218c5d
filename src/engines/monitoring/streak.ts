// A rule fires after `windows` consecutive breaching windows. A window that is not judged
// (too few observations) breaks the run as an ok window does: a rule never fires on
// windows it could not test, and a quiet weekend cannot carry a streak across. While the
// rule fires, each further breach adds evidence; the first window that passes resolves it.

import type { MonitorRule, WindowVerdict } from "./types.ts";

export interface RuleState {
  /** Consecutive breaching windows up to the last one judged. */
  streak: number;
  firing: boolean;
  /** End of the last window taken into account (ISO time); null before the first. */
  lastWindowEnd: string | null;
}

export const INITIAL_STATE: RuleState = { streak: 0, firing: false, lastWindowEnd: null };

export type RuleEvent = "fired" | "breach_continues" | "resolved" | null;

export function advance(
  rule: Pick<MonitorRule, "windows">,
  state: RuleState,
  verdict: Pick<WindowVerdict, "status">,
  windowEnd: string,
): { state: RuleState; event: RuleEvent } {
  if (verdict.status === "breach") {
    const streak = state.streak + 1;
    const fires = streak >= rule.windows;
    return {
      state: { streak, firing: fires, lastWindowEnd: windowEnd },
      event: fires ? (state.firing ? "breach_continues" : "fired") : null,
    };
  }
  return {
    state: { streak: 0, firing: false, lastWindowEnd: windowEnd },
    event: state.firing ? "resolved" : null,
  };
}
