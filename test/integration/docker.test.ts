/**
 * The docker provider on a real dockerd (.ci/run installs docker.io, starts the daemon and builds the
 * test image with `docker import`): the spine's scenario gives the same branch as native, the
 * container is hardened, the limits hold and are reported, and no container is ever left behind.
 */
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli, summaryOf } from '../helpers/cli.js';
import { buildImageWithout, containerLabels, dockerReady, leftoverContainers } from '../helpers/docker.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine, SPINE_SCENARIO } from '../helpers/spine.js';

const KEY = `sk-ant-docker-${'d'.repeat(24)}`;
const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });
let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const NO_NODE_IMAGE = 'parallel-cc-test-nonode:latest';
const NO_SLEEP_IMAGE = 'parallel-cc-test-nosleep:latest';
const READY = dockerReady();
afterAll(() => {
  // Images built by the tests; removing them leaves no dangling layers behind run after run.
  for (const image of [NO_NODE_IMAGE, NO_SLEEP_IMAGE]) {
    if (READY && execFileSync('docker', ['images', '-q', image], { encoding: 'utf8' }).trim()) execFileSync('docker', ['image', 'rm', '-f', image], { stdio: 'ignore' });
  }
});

function env(home: string): NodeJS.ProcessEnv {
  return { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server?.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' };
}

describe.skipIf(!READY)('docker provider', () => {
  it('runs the spine scenario to the spine branch (the same as native), leaving no container', async () => {
    server = await startModelServer({ scenario: SPINE_SCENARIO });
    const { summary } = await runSpine({ provider: 'docker', env: env(tempDir()) });
    expect(leftoverContainers([String(summary.sessionId)])).toEqual([]);
  });

  it('is hardened (no capabilities, read-only root, no host secrets, no unlisted network) in an image without node; --no-cleanup keeps the container until cleanup', async () => {
    // The provider's bridges run on the host's node, mounted with its loader and libraries: an image
    // without node still reaches the model API (the run completes) and nothing else.
    buildImageWithout(NO_NODE_IMAGE, ['usr/bin/node']);
    const hostHome = tempDir('pcc-dk-userhome-');
    writeFiles(hostHome, { '.ssh/id_rsa': 'SSH_MARKER\n', '.aws/credentials': 'AWS_MARKER\n' });
    server = await startModelServer({
      scenario: {
        steps: [
          bash('grep -E "^(Cap(Eff|Prm|Bnd)|NoNewPrivs)" /proc/self/status; id -u; command -v node || echo no-node'),
          bash(`echo x > /evil; echo x > /usr/evil; cat ~/.ssh/id_rsa ${hostHome}/.ssh/id_rsa .env 2>&1; env | grep -c ${KEY} ; echo done`),
          bash('curl -sS -m 10 https://example.com/ -o /dev/null; echo curl=$?; timeout 5 bash -c "exec 3<>/dev/tcp/1.1.1.1/80 && echo CONNECTED" 2>&1 | grep -o -m1 "unreachable\\|CONNECTED"'),
          { text: 'ok' },
        ],
      },
    });
    const repo = makeRepo({ 'a.txt': 'a\n' });
    writeFiles(repo, { '.env': 'ENV_MARKER=1\n' });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'probe', '--provider', 'docker', '--docker-image', NO_NODE_IMAGE, '--no-cleanup', '--json'], {
      env: { ...env(home), HOME: hostHome },
    });
    expect(r.code, r.stderr).toBe(0);
    const [caps, fs, net] = (server.toolResults() ?? []).map((t) => t.content) as [string, string, string];
    expect(caps).toMatch(/CapEff:\s+0000000000000000/);
    expect(caps).toMatch(/CapBnd:\s+0000000000000000/);
    expect(caps).toMatch(/NoNewPrivs:\s+1/);
    expect(caps).toMatch(/^1000$/m);
    expect(caps).toMatch(/^no-node$/m);
    expect(fs).toMatch(/\/evil: Read-only file system/);
    expect(fs).not.toMatch(/SSH_MARKER|ENV_MARKER/);
    expect(fs).toMatch(/^0$/m);
    expect(net).toMatch(/curl=56/);
    expect(net).toMatch(/unreachable/);
    expect(net).not.toMatch(/CONNECTED/);
    expect(parseNdjson(r.stdout)).toContainEqual(expect.objectContaining({ type: 'egress', host: 'example.com', port: 443, allowed: false }));
    const id = String(summaryOf(r.stdout).sessionId);
    const [kept] = leftoverContainers([id]);
    expect(kept).toBe(`parallel-cc-${id}`);
    expect(containerLabels(String(kept))).toMatchObject({ 'parallel-cc.session': id, 'parallel-cc.repo': repo });
    const cleanup = await runCli(['cleanup', '--json'], { env: env(home) });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`parallel-cc-${id}`);
    expect(leftoverContainers([id])).toEqual([]);
  });

  it('stops a fork bomb with the pids limit and a 4 GB allocation with the memory limit, and says so', async () => {
    server = await startModelServer({
      scenario: {
        steps: [
          bash(`node -e "const a=[];for(let i=0;i<80;i++){a.push(Buffer.alloc(50*1024*1024,1))}console.log('ALLOC'+'ATED')"; echo rc=$?`, 120000),
          bash('mkfifo /tmp/w; set -m; (f(){ f|f & }; f) & pg=$!; read -t 4 <> /tmp/w; kill -9 -- -$pg 2>/dev/null; echo bomb-contained', 120000),
          { text: 'done' },
        ],
      },
    });
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'limits', '--provider', 'docker', '--json'], { env: { ...env(tempDir()), PARALLEL_CC_DOCKER_MEMORY_LIMIT: '1g' } });
    const [mem] = server.toolResults().map((t) => t.content);
    expect(mem).toMatch(/rc=137/);
    expect(mem).not.toContain('ALLOCATED');
    const events = parseNdjson(r.stdout);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => String(e.message)).join('\n');
    expect(warnings).toMatch(/out of memory \(limit 1g/);
    expect(warnings).toMatch(/process limit reached \(limit 512/);
    const s = summaryOf(r.stdout);
    expect(['completed', 'failed']).toContain(s.status);
    if (s.status === 'failed') expect(String(s.error)).toMatch(/process limit reached|out of memory/);
    expect(leftoverContainers([String(s.sessionId)])).toEqual([]);
  });

  it('applies the limits and hardening it was given, reports health, and leaves nothing behind after failure, timeout and Ctrl-C; a missing image is a clear error', async () => {
    const LONG = `node -e "setTimeout(() => {}, 600000)"`;
    server = await startModelServer({ scenario: { steps: [bash('echo work > w.txt'), bash(LONG, 600000)] } });
    const ids: string[] = [];
    const home = tempDir();
    const timeout = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 't', '--provider', 'docker', '--timeout', '0.1', '--json'], { env: env(home) });
    expect(timeout.code).toBe(4);
    ids.push(String(summaryOf(timeout.stdout).sessionId));
    const { child, done } = startCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'c', '--provider', 'docker', '--json'], {
      env: { ...env(home), PARALLEL_CC_DOCKER_CPU_LIMIT: '0.5', PARALLEL_CC_DOCKER_MEMORY_LIMIT: '768m' },
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out.includes('setTimeout'), { timeout: 30_000, interval: 100 }).toBe(true);
    const running = String(parseNdjson(out).find((e) => typeof e.sessionId === 'string')?.sessionId);
    const health = await runCli(['sandbox', 'health', '--session-id', running, '--json'], { env: env(home) });
    expect(health.code, health.stderr).toBe(0);
    const h = JSON.parse(health.stdout) as { memoryBytes: number; memoryLimitBytes: number; pids: number; uptimeMs: number };
    expect(h.memoryLimitBytes).toBe(768 * 1024 ** 2);
    expect(h.memoryBytes).toBeGreaterThan(0);
    expect(h.pids).toBeGreaterThan(1);
    // Every hardening setting, as the daemon reports it.
    const hostConfig = JSON.parse(execFileSync('docker', ['inspect', '--format', '{{json .HostConfig}}', `parallel-cc-${running}`], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(hostConfig).toMatchObject({
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      PidsLimit: 512,
      NanoCpus: 5e8,
      Memory: 768 * 1024 ** 2,
      MemorySwap: 768 * 1024 ** 2,
      NetworkMode: 'none',
      Privileged: false,
    });
    expect(Object.keys(hostConfig.Tmpfs as object)).toEqual(['/tmp']);
    expect(execFileSync('docker', ['inspect', '--format', '{{.Config.User}}', `parallel-cc-${running}`], { encoding: 'utf8' }).trim()).toBe('1000:1000');
    child.kill('SIGINT');
    const ctrlc = await done;
    expect(ctrlc.code).toBe(130);
    ids.push(String(summaryOf(ctrlc.stdout).sessionId));
    server.setScenario({ steps: [bash('exit 3'), { text: 'x' }] });
    const fail = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'f', '--provider', 'docker', '--json', '--timeout', '1'], { env: { ...env(home), PARALLEL_CC_CLAUDE_BIN: '/bin/false' } });
    expect(fail.code).not.toBe(0);
    const failId = summaryOf(fail.stdout).sessionId;
    if (typeof failId === 'string') ids.push(failId);
    expect(leftoverContainers(ids)).toEqual([]);
    const noImage = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'docker', '--docker-image', 'no-such-image:1'], { env: env(join(home, 'x')) });
    expect(noImage.code).toBe(3);
    expect(noImage.stderr).toMatch(/the docker image no-such-image:1 is not on this machine/);
    expect(noImage.stderr).toMatch(/hint: .*docker build/);
    // An image that cannot run the container's `sleep`: a clear reason, in the registry too, and no container left.
    buildImageWithout(NO_SLEEP_IMAGE, ['usr/bin/sleep']);
    const noSleep = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'docker', '--docker-image', NO_SLEEP_IMAGE, '--json'], { env: env(home) });
    expect(noSleep.code).toBe(3);
    const stopped = summaryOf(noSleep.stdout);
    expect(String(stopped.error)).toMatch(/container stopped \(exit code 127; .*exec sleep failed/);
    const registry = await runCli(['status', '--all', '--json'], { env: env(home) });
    expect(registry.stdout).toContain('exec sleep failed');
    expect(leftoverContainers([String(stopped.sessionId)])).toEqual([]);
  });
});
