/**
 * `parallel-cc status` shows the fleet-wide model API hold another process set in the registry
 * (what the dashboard reads too), and nothing once it is over or when there is no registry.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusLines } from '../../src/cli/render-ops.js';
import type { Context } from '../../src/core/context.js';
import { SqliteFleetStore } from '../../src/core/net/fleet-store.js';
import { listSessions } from '../../src/core/ops/status.js';
import { openDb } from '../../src/store/db.js';
import { tempDir } from '../helpers/git-repo.js';

const sink = { write: (): boolean => true };

describe('status and the model API hold', () => {
  it('lists the hold while it lasts, with its reason and when requests resume', async () => {
    const home = tempDir('pcc-home-');
    let now = Date.parse('2026-03-01T10:00:00Z');
    const ctx: Context = { cwd: home, env: {}, home, now: () => new Date(now), stdout: sink, stderr: sink, signal: new AbortController().signal };
    expect((await listSessions({}, ctx)).modelApi).toBeUndefined();
    const db = openDb(join(home, 'coordinator.db'));
    new SqliteFleetStore(db, 4242).hold(now + 12_000, 'rate limited by the model API (429)', now);
    db.close();
    const out = await listSessions({}, ctx);
    expect(out.modelApi).toEqual({ hold: { reason: 'rate limited by the model API (429)', until: '2026-03-01T10:00:12.000Z', resumeInMs: 12_000 } });
    expect(statusLines(out, { paint: (_c, s) => s })[0]).toBe('Model API: rate limited by the model API (429); resuming in 12 s');
    now += 12_001;
    const later = await listSessions({}, ctx);
    expect(later.modelApi).toBeUndefined();
    expect(statusLines(later, { paint: (_c, s) => s })[0]).toMatch(/^No active sessions/);
  });
});
