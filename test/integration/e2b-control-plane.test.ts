/**
 * The E2B emulator's control plane against the unmodified `e2b` SDK, pinned to E2B's behaviour
 * (e2b-dev/infra `packages/api`, the SDK's OpenAPI spec and its tests/api, sandbox/{create,kill,
 * connect,timeout}): cursor paging, the list filters (paused sandboxes are listed by default),
 * `Sandbox.create({ envs })`, pause/resume with frozen processes and a stopped timeout, and kill of
 * a missing sandbox.
 */
import { randomBytes } from 'node:crypto';
import { Sandbox, SandboxNotFoundError, type SandboxInfo } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2BEmulator, type E2BEmulator } from '../fixtures/e2b/index.js';
import { E2B_KEY } from '../helpers/e2b.js';

let emu: E2BEmulator;
const opts = (): { apiKey: string; apiUrl: string; sandboxUrl: string } => ({ apiKey: E2B_KEY, apiUrl: emu.apiUrl, sandboxUrl: emu.sandboxUrl });
beforeAll(async () => {
  emu = await startE2BEmulator({ apiKey: E2B_KEY });
});
afterAll(async () => {
  await emu.close();
});

async function all(pages: ReturnType<typeof Sandbox.list>): Promise<SandboxInfo[][]> {
  const out: SandboxInfo[][] = [];
  while (pages.hasNext) out.push(await pages.nextItems());
  return out;
}

describe('E2B emulator control plane', () => {
  it('pages with limit and nextToken, newest first by default, oldest first with order asc; filters by state, template, metadata and startedAfter', async () => {
    const suite = randomBytes(4).toString('hex');
    const made: Sandbox[] = [];
    for (const t of ['base', 'base', 'anthropic-claude-code']) made.push(await Sandbox.create(t, { ...opts(), metadata: { suite } }));
    try {
      const ids = made.map((s) => s.sandboxId);
      const pages = await all(Sandbox.list({ ...opts(), limit: 1, query: { metadata: { suite } } }));
      expect(pages.map((p) => p.length)).toEqual([1, 1, 1]);
      expect(pages.flat().map((s) => s.sandboxId)).toEqual([...ids].reverse());
      const asc = await all(Sandbox.list({ ...opts(), limit: 2, order: 'asc', query: { metadata: { suite } } }));
      expect(asc.map((p) => p.map((s) => s.sandboxId))).toEqual([ids.slice(0, 2), ids.slice(2)]);
      // The second one paused: still listed by default, with its state; a state filter leaves it out.
      expect(await made[1]?.betaPause()).toBe(true);
      const listed = (await all(Sandbox.list({ ...opts(), query: { metadata: { suite } } }))).flat();
      expect(listed.find((s) => s.sandboxId === ids[1])?.state).toBe('paused');
      const running = (await all(Sandbox.list({ ...opts(), query: { metadata: { suite }, state: ['running'] } }))).flat();
      expect(running.map((s) => s.sandboxId).sort()).toEqual([ids[0], ids[2]].sort());
      const paused = (await all(Sandbox.list({ ...opts(), query: { metadata: { suite }, state: ['paused'] } }))).flat();
      expect(paused.map((s) => s.sandboxId)).toEqual([ids[1]]);
      const cc = (await all(Sandbox.list({ ...opts(), query: { metadata: { suite }, template: 'anthropic-claude-code' } }))).flat();
      expect(cc.map((s) => s.sandboxId)).toEqual([ids[2]]);
      const later = (await all(Sandbox.list({ ...opts(), query: { metadata: { suite }, startedAfter: new Date(Date.now() + 60_000) } }))).flat();
      expect(later).toEqual([]);
      const other = (await all(Sandbox.list({ ...opts(), query: { metadata: { suite: 'none' } } }))).flat();
      expect(other).toEqual([]);
    } finally {
      for (const s of made) await s.kill();
    }
  });

  it('applies Sandbox.create({ envs }) to every command; a command’s own envs win', async () => {
    const sbx = await Sandbox.create('base', { ...opts(), envs: { PCC_SANDBOX_VAR: 'from-create' } });
    try {
      expect((await sbx.commands.run('echo "$PCC_SANDBOX_VAR"')).stdout).toBe('from-create\n');
      expect((await sbx.commands.run('echo "$PCC_SANDBOX_VAR"', { envs: { PCC_SANDBOX_VAR: 'own' } })).stdout).toBe('own\n');
    } finally {
      await sbx.kill();
    }
  });

  it('a paused sandbox has frozen processes and no running timeout; connect resumes it', async () => {
    const sbx = await Sandbox.create('base', { ...opts(), timeoutMs: 3_000 });
    try {
      const loop = await sbx.commands.run('while :; do date +%s%N >> /tmp/tick; sleep 0.1; done', { background: true });
      // Its stream is cut by the pause (as E2B's edge does): the handle's end is not the point here.
      loop.wait().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      expect(await Sandbox.betaPause(sbx.sandboxId, opts())).toBe(true);
      expect(await Sandbox.betaPause(sbx.sandboxId, opts())).toBe(false); // already paused: 409
      expect((await Sandbox.getInfo(sbx.sandboxId, opts())).state).toBe('paused');
      await expect(Sandbox.setTimeout(sbx.sandboxId, 60_000, opts())).rejects.toThrow(/not found/i);
      // Longer than its 3 s timeout: a paused sandbox's timeout does not run.
      await new Promise((r) => setTimeout(r, 4_000));
      const resumed = await Sandbox.connect(sbx.sandboxId, { ...opts(), timeoutMs: 30_000 });
      const resumedAt = Date.now();
      expect((await Sandbox.getInfo(sbx.sandboxId, opts())).state).toBe('running');
      await new Promise((r) => setTimeout(r, 500));
      const ticks = (await resumed.files.read('/tmp/tick')).trim().split('\n').map((t) => Number(BigInt(t) / 1_000_000n));
      const gaps = ticks.slice(1).map((t, i) => t - (ticks[i] ?? t));
      // The loop stood still while paused (one gap of the pause's length) and runs again after.
      expect(Math.max(...gaps)).toBeGreaterThan(3_500);
      expect(ticks.some((t) => t >= resumedAt - 50)).toBe(true);
    } finally {
      await Sandbox.kill(sbx.sandboxId, opts());
    }
  });

  it('kill of a missing or already killed sandbox is false (404); its info is not found', async () => {
    expect(await Sandbox.kill(`i${randomBytes(9).toString('hex')}`, opts())).toBe(false);
    const sbx = await Sandbox.create('base', opts());
    expect(await Sandbox.kill(sbx.sandboxId, opts())).toBe(true);
    expect(await Sandbox.kill(sbx.sandboxId, opts())).toBe(false);
    await expect(Sandbox.getInfo(sbx.sandboxId, opts())).rejects.toBeInstanceOf(SandboxNotFoundError);
  });
});
