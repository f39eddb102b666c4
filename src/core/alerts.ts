import type { SandboxHandle, SandboxProvider, SandboxStats } from '../providers/provider.js';
import type { StreamEvent } from './events.js';

/** What an alert watches (spec 002's alertThresholds). */
export type AlertMetric = 'cpu' | 'memory' | 'disk' | 'runtime';

/** Thresholds (config `alertThresholds`): percentages of the sandbox's limits, and minutes of run time. */
export interface AlertThresholds {
  cpuPercent?: number;
  memoryPercent?: number;
  diskPercent?: number;
  runMinutes?: number;
  /** How often the sandbox's stats are read. */
  intervalSeconds: number;
}

/** One alert that fired. */
export interface AlertFired {
  metric: AlertMetric;
  value: number;
  threshold: number;
  message: string;
}

/** The metric values of one stats reading, as percentages (and minutes for run time). */
export function readings(s: SandboxStats, runMs: number): Partial<Record<AlertMetric, number>> {
  const pct = (used?: number, limit?: number): number | undefined => (used !== undefined && limit ? (used / limit) * 100 : undefined);
  const out: Partial<Record<AlertMetric, number>> = { runtime: runMs / 60_000 };
  if (s.cpuPercent !== undefined) out.cpu = s.cpuPercent;
  const mem = pct(s.memoryBytes, s.memoryLimitBytes);
  if (mem !== undefined) out.memory = mem;
  const disk = pct(s.diskBytes, s.diskLimitBytes);
  if (disk !== undefined) out.disk = disk;
  return out;
}

const UNIT: Record<AlertMetric, (v: number) => string> = {
  cpu: (v) => `CPU at ${v.toFixed(0)}%`,
  memory: (v) => `memory at ${v.toFixed(0)}% of the limit`,
  disk: (v) => `disk at ${v.toFixed(0)}% of the limit`,
  runtime: (v) => `running for ${v.toFixed(1)} min`,
};

/**
 * Watches a running sandbox: reads the provider's stats every `intervalSeconds` while the agent
 * runs and fires each threshold once (an `alert` event, and `onAlert` for the registry and the
 * webhooks). Stats that cannot be read are skipped: monitoring never fails a run.
 */
export class AlertMonitor {
  private readonly fired = new Set<AlertMetric>();
  readonly alerts: AlertFired[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly provider: SandboxProvider,
    private readonly sandbox: SandboxHandle,
    private readonly thresholds: AlertThresholds,
    private readonly opts: { startedAt: number; now: () => number; emit: (e: StreamEvent) => void; onAlert: (a: AlertFired, all: readonly AlertFired[]) => void },
  ) {}

  /** True when a threshold is set and the provider has stats. */
  static wanted(provider: SandboxProvider, t: AlertThresholds | undefined): t is AlertThresholds {
    return t !== undefined && (t.runMinutes !== undefined || (provider.stats !== undefined && (t.cpuPercent !== undefined || t.memoryPercent !== undefined || t.diskPercent !== undefined)));
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), Math.max(200, this.thresholds.intervalSeconds * 1000));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading (exported for tests and for a last look when the agent ends). */
  async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const stats = this.provider.stats ? await this.provider.stats(this.sandbox).catch(() => ({})) : ({} as SandboxStats);
      const values = readings(stats, this.opts.now() - this.opts.startedAt);
      const limits: Record<AlertMetric, number | undefined> = { cpu: this.thresholds.cpuPercent, memory: this.thresholds.memoryPercent, disk: this.thresholds.diskPercent, runtime: this.thresholds.runMinutes };
      for (const metric of Object.keys(limits) as AlertMetric[]) {
        const threshold = limits[metric];
        const value = values[metric];
        if (threshold === undefined || value === undefined || value < threshold || this.fired.has(metric) || !this.timer) continue;
        this.fired.add(metric);
        const a: AlertFired = { metric, value: Math.round(value * 10) / 10, threshold, message: `alert: ${UNIT[metric](value)} (threshold ${threshold}${metric === 'runtime' ? ' min' : '%'})` };
        this.alerts.push(a);
        this.opts.emit({ type: 'alert', metric, value: a.value, threshold, message: a.message });
        this.opts.onAlert(a, this.alerts);
      }
    } finally {
      this.busy = false;
    }
  }
}

/** Starts watching when thresholds are set (and the provider can report what they need); undefined otherwise. */
export function startMonitor(provider: SandboxProvider, sandbox: SandboxHandle, t: AlertThresholds | undefined, opts: ConstructorParameters<typeof AlertMonitor>[3]): AlertMonitor | undefined {
  if (!AlertMonitor.wanted(provider, t)) return undefined;
  const m = new AlertMonitor(provider, sandbox, t, opts);
  m.start();
  return m;
}
