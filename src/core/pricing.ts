import type { TokenUsage } from './events.js';

/**
 * Rounds a cost to a millionth of a dollar: every cost parallel-cc prints, logs or stores goes
 * through this, so sums never show float noise like 0.0024000000000000002.
 */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** USD per million tokens of one model family. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const price = (input: number, output: number, cacheRead = 0.1): ModelPrice => ({ input, output, cacheRead: input * cacheRead, cacheWrite: input * 1.25 });

/**
 * Public list prices by model name pattern, first match wins: Anthropic (claude), OpenAI (codex)
 * and Google (gemini) families. Used to *estimate* a run's cost while it runs (claude reports the
 * exact total only at the very end) and as the cost of agents that report none (codex, gemini);
 * an unknown model is priced like the most expensive current family, so a budget errs on the side
 * of stopping early.
 */
const PRICE_TABLE: ReadonlyArray<{ pattern: RegExp; price: ModelPrice }> = [
  // OpenAI: cached input at a tenth.
  { pattern: /gpt-[5-9][.\d]*-nano/, price: price(0.05, 0.4) },
  { pattern: /gpt-[5-9][.\d]*-mini|codex-mini/, price: price(0.25, 2) },
  { pattern: /gpt-[5-9]/, price: price(1.25, 10) },
  { pattern: /gpt-4\.1-nano/, price: price(0.1, 0.4) },
  { pattern: /gpt-4\.1-mini/, price: price(0.4, 1.6) },
  { pattern: /gpt-4\.1|\bo3\b|^o3-/, price: price(2, 8) },
  { pattern: /o4-mini/, price: price(1.1, 4.4) },
  { pattern: /gpt-4o-mini/, price: price(0.15, 0.6) },
  { pattern: /gpt-4o/, price: price(2.5, 10) },
  // Google: cached input at a quarter.
  { pattern: /gemini-.*flash-lite/, price: price(0.1, 0.4, 0.25) },
  { pattern: /gemini-.*flash/, price: price(0.3, 2.5, 0.25) },
  { pattern: /gemini-[3-9][.\d]*-pro/, price: price(2, 12, 0.25) },
  { pattern: /gemini-.*pro/, price: price(1.25, 10, 0.25) },
  // Anthropic.
  { pattern: /opus-4(-0|-1)?(-\d{8})?$|opus-4-1|claude-3-opus/, price: price(15, 75) },
  { pattern: /opus/, price: price(5, 25) },
  { pattern: /sonnet/, price: price(3, 15) },
  { pattern: /haiku-3|3-haiku/, price: price(0.25, 1.25) },
  { pattern: /3-5-haiku|haiku-3-5/, price: price(0.8, 4) },
  { pattern: /haiku/, price: price(1, 5) },
];
const FALLBACK_PRICE = price(5, 25);

/** The price of a model (by name), or the conservative fallback. */
export function priceOf(model: string | undefined): ModelPrice {
  const name = (model ?? '').toLowerCase();
  return PRICE_TABLE.find((p) => p.pattern.test(name))?.price ?? FALLBACK_PRICE;
}

/** Estimated USD cost of some token usage on a model. */
export function estimateCost(model: string | undefined, u: TokenUsage): number {
  const p = priceOf(model);
  return (u.inputTokens * p.input + u.outputTokens * p.output + (u.cacheReadTokens ?? 0) * p.cacheRead + (u.cacheCreationTokens ?? 0) * p.cacheWrite) / 1_000_000;
}

/**
 * Running cost estimate of one agent run, fed with the usage of each model response as it streams.
 * A response can be reported several times (one event per content block, growing output counts), so
 * usage is kept per message id and the largest numbers win.
 */
export class CostMeter {
  private readonly messages = new Map<string, { model: string | undefined; usage: TokenUsage }>();

  /** Records (or updates) the usage of one model response. */
  add(messageId: string, model: string | undefined, usage: TokenUsage): void {
    const prev = this.messages.get(messageId)?.usage;
    const max = (a: number | undefined, b: number | undefined): number => Math.max(a ?? 0, b ?? 0);
    this.messages.set(messageId, {
      model,
      usage: {
        inputTokens: max(prev?.inputTokens, usage.inputTokens),
        outputTokens: max(prev?.outputTokens, usage.outputTokens),
        cacheReadTokens: max(prev?.cacheReadTokens, usage.cacheReadTokens),
        cacheCreationTokens: max(prev?.cacheCreationTokens, usage.cacheCreationTokens),
      },
    });
  }

  /** Estimated USD so far. */
  costUsd(): number {
    let total = 0;
    for (const m of this.messages.values()) total += estimateCost(m.model, m.usage);
    return total;
  }

  /** Token totals so far. */
  usage(): TokenUsage {
    const t: Required<TokenUsage> = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    for (const { usage: u } of this.messages.values()) {
      t.inputTokens += u.inputTokens;
      t.outputTokens += u.outputTokens;
      t.cacheReadTokens += u.cacheReadTokens ?? 0;
      t.cacheCreationTokens += u.cacheCreationTokens ?? 0;
    }
    return t;
  }
}
