/**
 * `sandbox exec --provider docker`'s one-shot container (issue 26): the command is the container's
 * own process, in the same hardened container as a session's, removed when it ends; output, exit
 * codes and stdin are exact, a kill ends everything in it, and a CLI killed with SIGKILL leaves
 * nothing once `cleanup` ran.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DockerProvider } from '../../src/providers/docker/index.js';
import type { ExecHandle } from '../../src/providers/provider.js';
import { BIN, runCli } from '../helpers/cli.js';
import { dockerReady, DOCKER_TEST_IMAGE } from '../helpers/docker.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const READY = dockerReady();
const config = { ...ConfigSchema.parse({}).providers.docker, image: DOCKER_TEST_IMAGE };
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const inspect = (name: string, format: string): string => execFileSync('docker', ['inspect', '--format', format, name], { encoding: 'utf8' }).trim();
/** Containers (any state) carrying this exec label value. */
const execContainers = (id: string): string[] =>
  execFileSync('docker', ['ps', '-a', '--filter', `label=parallel-cc.exec=${id}`, '--format', '{{.Names}}'], { encoding: 'utf8' }).split('\n').filter(Boolean);
/** Every exec container on the daemon (any state). */
const allExecContainers = (): string[] =>
  execFileSync('docker', ['ps', '-a', '--filter', 'label=parallel-cc.session=exec', '--format', '{{.Names}}'], { encoding: 'utf8' }).split('\n').filter(Boolean);

/** Sessions of the one-shot commands started here: whatever a failed test left of them is removed after. */
const started: string[] = [];
afterAll(() => {
  for (const id of started) for (const name of execContainers(id)) execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
});

/** A one-shot command through the provider, in a fresh sandbox folder. */
function once(provider: DockerProvider, argv: string[], stdin?: Buffer): { id: string; handle: Promise<ExecHandle> } {
  const id = `t${randomBytes(4).toString('hex')}`;
  started.push(id);
  const spec = { sessionId: id, sandboxDir: tempDir('pcc-os-box-'), bridges: {}, labels: { 'parallel-cc.session': 'exec', 'parallel-cc.exec': id } };
  return { id, handle: provider.runOnce(spec, { argv, ...(stdin ? { stdin } : {}) }) };
}

async function drain(handle: ExecHandle): Promise<{ stdout: Buffer; stderr: string; exitCode: number | null; signal: string | null }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for await (const c of handle) (c.stream === 'stdout' ? out : err).push(c.data);
  return { ...(await handle.wait()), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
}

describe.skipIf(!READY)('docker one-shot exec (provider)', () => {
  const provider = new DockerProvider(process.env, config);

  it('runs the command as the hardened container’s own process and removes the container when it ends', async () => {
    const { id, handle } = once(provider, ['sh', '-c', 'echo started; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo out; echo err >&2; exit 7']);
    const h = await handle;
    const name = `parallel-cc-${id}`;
    // While it runs: the container's own process is the command (no `sleep infinity` + exec), with every hardening flag.
    expect(JSON.parse(inspect(name, '{{json .Config.Cmd}}'))).toEqual(['sh', '-c', expect.stringContaining('echo started') as unknown]);
    expect(JSON.parse(inspect(name, '{{json .HostConfig}}'))).toMatchObject({
      AutoRemove: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      PidsLimit: 512,
      NetworkMode: 'none',
      Privileged: false,
      Init: true,
    });
    expect(inspect(name, '{{.Config.User}}')).toMatch(/^\d+:\d+$/);
    expect(inspect(name, '{{.Config.User}}')).not.toMatch(/^0:/);
    // The container has no writable root: the command signals through its tmpfs.
    execFileSync('docker', ['exec', name, 'touch', '/tmp/go']);
    const r = await drain(h);
    expect(r).toMatchObject({ exitCode: 7, signal: null, stdout: Buffer.from('started\nout\n'), stderr: 'err\n' });
    expect(execContainers(id)).toEqual([]);
  });

  it('passes stdin byte-exact (all 256 byte values, and 5 MB) and reports exit codes', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const payload of [all, Buffer.concat([all, randomBytes(5 * 1024 * 1024)])]) {
      const { handle } = once(provider, ['cat'], payload);
      const r = await drain(await handle);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.length).toBe(payload.length);
      expect(sha(r.stdout)).toBe(sha(payload));
    }
    expect((await drain(await once(provider, ['true']).handle)).exitCode).toBe(0);
    // A command the image does not have, or cannot execute: docker run's 127 and 126.
    const missing = await drain(await once(provider, ['no-such-command-pcc']).handle);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/no-such-command-pcc/);
    expect((await drain(await once(provider, ['/etc/passwd']).handle)).exitCode).toBe(126);
    expect((await drain(await once(provider, ['sh', '-c', 'kill -TERM $$']).handle)).exitCode).toBe(143);
  });

  it('kill() ends the command and everything it started, then the container is gone', async () => {
    const { id, handle } = once(provider, ['sh', '-c', '(sleep 600 &) ; sleep 600 & echo up; wait']);
    const h = await handle;
    const first = (await h[Symbol.asyncIterator]().next()) as IteratorResult<{ data: Buffer }>;
    expect(first.done ? '' : first.value.data.toString()).toBe('up\n');
    await h.kill();
    expect(await h.wait()).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    await expect.poll(() => execContainers(id), { timeout: 30_000, interval: 200 }).toEqual([]);
  });

  it('an image that is not there is refused like create(), leaving no container', async () => {
    const bad = new DockerProvider(process.env, { ...config, image: 'no-such-image-pcc:1' });
    const { id, handle } = once(bad, ['true']);
    await expect(handle).rejects.toThrow(/the docker image no-such-image-pcc:1 is not on this machine/);
    expect(execContainers(id)).toEqual([]);
  });
});

describe.skipIf(!READY)('docker one-shot exec (CLI)', () => {
  const envWith = (root: string): NodeJS.ProcessEnv => ({ ...process.env, PARALLEL_CC_HOME: tempDir('pcc-os-home-'), PARALLEL_CC_SANDBOX_ROOT: root, NO_COLOR: '1' });

  it('prints the output, exits with the command’s code, copies --repo in, and leaves nothing', async () => {
    const root = tempDir('pcc-os-root-');
    const env = envWith(root);
    const before = allExecContainers();
    const r = await runCli(['sandbox', 'exec', '--provider', 'docker', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'], { env });
    expect(r).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    const repo = makeRepo({ 'README.md': '# one-shot\n' });
    const withRepo = await runCli(['sandbox', 'exec', '--provider', 'docker', '--repo', repo, '--', 'cat', 'README.md'], { env });
    expect(withRepo).toMatchObject({ code: 0, stdout: '# one-shot\n' });
    expect((await runCli(['sandbox', 'exec', '--provider', 'docker', '--', 'no-such-command-pcc'], { env })).code).toBe(127);
    expect(readdirSync(root)).toEqual([]);
    expect(allExecContainers().filter((c) => !before.includes(c))).toEqual([]);
  });

  it('SIGTERM stops the command; a SIGKILLed CLI leaves a container and folder that `cleanup` removes', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const root = tempDir('pcc-os-root-');
      const env = envWith(root);
      const before = allExecContainers();
      const child = spawn(process.execPath, [BIN, 'sandbox', 'exec', '--provider', 'docker', '--', 'sh', '-c', 'echo up; exec sleep 600'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await expect.poll(() => out, { timeout: 60_000, interval: 100 }).toBe('up\n');
      const mine = allExecContainers().filter((c) => !before.includes(c));
      expect(mine).toHaveLength(1);
      child.kill(signal);
      const code = await exited;
      if (signal === 'SIGTERM') {
        // The CLI ended the command itself: nothing is left, without cleanup.
        expect(code).not.toBe(0);
        expect(allExecContainers().filter((c) => mine.includes(c))).toEqual([]);
        expect(readdirSync(root)).toEqual([]);
        continue;
      }
      // A SIGKILLed CLI cannot clean up: its container still runs, its folder says whose it was.
      expect(allExecContainers().filter((c) => mine.includes(c))).toEqual(mine);
      expect(readdirSync(root)).toHaveLength(1);
      const clean = await runCli(['cleanup', '--json'], { env });
      expect(clean.code, clean.stderr).toBe(0);
      const actions = (JSON.parse(clean.stdout) as { actions: Array<Record<string, unknown>> }).actions;
      expect(actions).toEqual([expect.objectContaining({ kind: 'sandbox', action: 'removed', reason: expect.stringContaining('sandbox exec') as unknown })]);
      expect(allExecContainers().filter((c) => mine.includes(c))).toEqual([]);
      expect(readdirSync(root)).toEqual([]);
    }
  });
});
