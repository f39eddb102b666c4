import { AppError } from '../../errors.js';

/** A phase heading of a plan: its number, its heading line and where its section starts and ends. */
export interface PlanPhase {
  n: number;
  heading: string;
  start: number;
  end: number;
}

// A markdown ATX heading (any level, up to 3 spaces of indent) whose text contains "Phase <n>".
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/;
const PHASE = /\bphase[ \t]+(\d+)\b/i;

/**
 * The phases of a plan: every markdown heading (any level) containing `Phase <n>`; a phase runs
 * from its heading to the next phase heading (or the end). Headings inside fenced code blocks do not count.
 */
export function planPhases(text: string): PlanPhase[] {
  const phases: PlanPhase[] = [];
  let offset = 0;
  let fence: string | undefined;
  for (const line of text.split(/(?<=\n)/)) {
    const bare = line.replace(/\r?\n$/, '');
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(bare)?.[1];
    if (f && (fence === undefined || (f[0] === fence[0] && f.length >= fence.length))) fence = fence === undefined ? f : undefined;
    else if (fence === undefined) {
      const h = HEADING.exec(bare);
      const p = h ? PHASE.exec(h[2] ?? '') : null;
      if (h && p) {
        const last = phases[phases.length - 1];
        if (last) last.end = offset;
        phases.push({ n: Number(p[1]), heading: bare.trim(), start: offset, end: text.length });
      }
    }
    offset += line.length;
  }
  return phases;
}

/**
 * `--focus-phase <n>`: the prompt reduced to phase n of the plan (its heading through the next
 * phase heading). A missing phase is a usage error listing the phases found.
 */
export function focusPhase(prompt: string, raw: string, source: string): string {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new AppError('usage', `--focus-phase must be a phase number, got "${raw}"`, { hint: 'Example: --focus-phase 2 runs the section under "## Phase 2".' });
  const phases = planPhases(prompt);
  const found = phases.filter((p) => p.n === Number(raw));
  const list = phases.length ? phases.map((p) => p.heading).join('; ') : 'none';
  if (found.length === 0) throw new AppError('usage', `--focus-phase ${raw}: ${source} has no "Phase ${raw}" heading (phases found: ${list})`, { hint: 'Phases are markdown headings containing "Phase <n>", e.g. "## Phase 2: tests".' });
  if (found.length > 1) throw new AppError('usage', `--focus-phase ${raw}: ${source} has ${found.length} "Phase ${raw}" headings (${found.map((p) => p.heading).join('; ')})`, { hint: 'Give each phase one heading.' });
  const phase = found[0] as PlanPhase;
  return prompt.slice(phase.start, phase.end);
}
