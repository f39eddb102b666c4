/**
 * CLI input handling and friction (issue #15): output paths checked before anything happens, the
 * signal message of each command, `--verbose` never taken from after `--`, the real exclusion count,
 * positional session ids, completion, help, config keys, units, the dry-run summary and the demo.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { BIN, parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const created: string[] = [];
const temp = (prefix: string): string => {
  const d = tempDir(prefix);
  created.push(d);
  return d;
};

let server: ModelServer;
let repo: string;
let home: string;
let env: NodeJS.ProcessEnv;
let sessionId: string;
let runEvents: Array<Record<string, unknown>>;

beforeAll(async () => {
  server = await startModelServer({ scenario: { steps: [{ toolUses: [{ name: 'Bash', input: { command: 'echo hi > hi.txt' } }] }, { text: 'done' }] } });
  repo = makeRepo({ 'README.md': '# r\n', '.gitignore': '.env\n' });
  created.push(repo);
  writeFiles(repo, { '.env': 'SECRET=1\n' });
  home = temp('pcc-ux-home-');
  env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-ux-${'u'.repeat(24)}`, NO_COLOR: '1' };
  const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi', '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  runEvents = parseNdjson(r.stdout);
  sessionId = String(runEvents[0]?.sessionId);
}, 120_000);

afterAll(async () => {
  await server.close();
  for (const wt of git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).slice(1)) git(repo, 'worktree', 'remove', '--force', wt.slice(9));
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI with a deadline: a hang is a failure, and the child never outlives the test. */
async function runWithin(ms: number, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, done } = startCli(args, opts);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const r = await done;
  clearTimeout(timer);
  return r;
}

describe('defect 5: unwritable output paths are usage errors, checked before anything is created', () => {
  it('sandbox run --local-log in a missing folder: exit 2, no session row, no worktree', async () => {
    const h = join(temp('pcc-ux-'), 'home');
    const r = await runWithin(60_000, ['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--local-log', '/nonexistent/x.log'], { env: { ...env, PARALLEL_CC_HOME: h } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--local-log \/nonexistent\/x\.log: its folder \/nonexistent does not exist/);
    expect(r.stderr).not.toContain('bug in parallel-cc');
    expect(existsSync(h)).toBe(false);
    expect(existsSync('/nonexistent')).toBe(false);
  });

  it('logs --save and download --output into a missing folder or below a file: exit 2, nothing written', async () => {
    const dir = temp('pcc-ux-');
    writeFileSync(join(dir, 'file'), 'x');
    for (const args of [
      ['sandbox', 'logs', '--session-id', sessionId, '--save', join(dir, 'missing', 'x.ndjson')],
      ['sandbox', 'logs', '--session-id', sessionId, '--save', dir],
      ['sandbox', 'download', '--session-id', sessionId, '--output', join(dir, 'file', 'out')],
      ['sandbox', 'download', '--session-id', sessionId, '--output', join(dir, 'file')],
    ]) {
      const r = await runWithin(30_000, args, { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error: --(save|output) /m);
      expect(r.stderr).not.toContain('bug in parallel-cc');
    }
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('--multi --output-dir below a file: exit 2 before any task starts', async () => {
    const dir = temp('pcc-ux-');
    writeFileSync(join(dir, 'file'), 'x');
    const h = join(dir, 'home');
    const r = await runWithin(60_000, ['sandbox', 'run', '--multi', '--repo', repo, '--task', 'a', '--output-dir', join(dir, 'file', 'out')], { env: { ...env, PARALLEL_CC_HOME: h } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--output-dir .*file\/out: .*file is a file, not a folder/);
    expect(existsSync(h)).toBe(false);
  });
});

describe('defect 6: /proc output folders never hang; a signal names the command it stops', () => {
  it('download --output /proc/x and --multi --output-dir /proc/x are refused at once', async () => {
    const d = await runWithin(15_000, ['sandbox', 'download', '--session-id', sessionId, '--output', '/proc/pcc-x'], { env });
    expect(d.code, d.stderr).toBe(2);
    expect(d.stderr).toMatch(/--output \/proc\/pcc-x: is inside \/proc, a kernel pseudo-filesystem/);
    const h = join(temp('pcc-ux-'), 'home');
    const m = await runWithin(15_000, ['sandbox', 'run', '--multi', '--repo', repo, '--task', 'a', '--output-dir', '/proc/pcc-x'], { env: { ...env, PARALLEL_CC_HOME: h } });
    expect(m.code, m.stderr).toBe(2);
    expect(m.stderr).toMatch(/--output-dir \/proc\/pcc-x: is inside \/proc/);
    expect(existsSync(h)).toBe(false);
  });

  it('SIGTERM to a command that is not a run says what it stopped and exits 130', async () => {
    // stdin stays open: mcp-serve waits for requests until it is told to stop.
    const child = spawn(process.execPath, [BIN, 'mcp-serve'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.exitCode).toBe(null);
    const stopped = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await done;
    clearTimeout(timer);
    const r = { code, stderr };
    expect(Date.now() - stopped).toBeLessThan(5_000);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('SIGTERM received, `parallel-cc mcp-serve` stopped');
    expect(r.stderr).not.toContain('stopping the sandbox');
  });

  it('SIGTERM to watch-merges ends its wait at once and says so', async () => {
    const child = spawn(process.execPath, [BIN, 'watch-merges', '--repo', repo, '--interval', '60'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    await new Promise((r) => setTimeout(r, 1500));
    const stopped = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    expect(stderr).toContain('SIGTERM received, no longer watching for merges');
  });
});

describe('defect 7: the upload line of a real run counts what stays home', () => {
  it('names the excluded secret, as --dry-run does', async () => {
    const upload = runEvents.find((e) => e.type === 'phase' && e.phase === 'upload');
    expect(upload?.message).toMatch(/, 1 excluded: 1 secret \(\.env\)$/);
    const dry = await runCli(['sandbox', 'run', '--repo', repo, '--dry-run'], { env });
    expect(dry.stdout).toMatch(/- \.env \(secret\)/);
  });
});

describe('defect 9: --verbose is ours only before --', () => {
  it('sandbox exec -- echo hi --verbose prints "hi --verbose"; sandbox run --help lists --verbose', async () => {
    const r = await runWithin(60_000, ['sandbox', 'exec', '--', 'echo', 'hi', '--verbose'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi --verbose\n');
    expect(r.stderr).not.toContain('[DEBUG]');
    const help = await runCli(['sandbox', 'run', '--help'], { env });
    expect(help.stdout).toMatch(/--verbose\s+step-by-step diagnostics/);
  });
});

describe('defect 10: small truths', () => {
  it('--timeout: the message states the rule; 0 is refused, 30m and 1800s are accepted', async () => {
    const zero = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--timeout', '0', '--dry-run'], { env });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--timeout must be more than 0 and at most 60 minutes, got "0"');
    for (const t of ['30m', '1800s', '0.5'])
      expect((await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--timeout', t, '--dry-run', '--json'], { env })).code, t).toBe(0);
  });

  it('claude-parallel --help in a repository registers no session', async () => {
    const h = join(temp('pcc-ux-'), 'home');
    const bin = join(ROOT, 'dist', 'bin-claude-parallel.js');
    const child = spawn(process.execPath, [bin, '--help'], { cwd: repo, env: { ...env, PARALLEL_CC_HOME: h }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: claude/);
    expect(existsSync(h)).toBe(false);
  });

  it('help sandbox run prints the help of sandbox run; doctor --sandbox lists only built providers', async () => {
    const r = await runCli(['help', 'sandbox', 'run'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: parallel-cc sandbox run \[options\]/);
    const d = await runCli(['doctor', '--sandbox', '--json'], { env });
    const names = (JSON.parse(d.stdout) as { checks: Array<{ name: string }> }).checks.map((c) => c.name);
    // The SDKs of the registered providers, and nothing for a provider that is not built (Kubernetes is out of scope).
    // docker has none: it speaks the Engine API itself (providers/docker/engine.ts).
    expect(names).toEqual(expect.arrayContaining(['sdk e2b', 'sdk @daytonaio/sdk']));
    expect(names.filter((n) => /dockerode/.test(n))).toEqual([]);
    expect(names.filter((n) => /kubernetes|modal/i.test(n))).toEqual([]);
  });
});

describe('friction', () => {
  it('session ids as positional arguments (unique prefixes too); --session-id still works; two different ones are refused', async () => {
    const logs = await runCli(['sandbox', 'logs', sessionId.slice(0, 4), '--json'], { env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(parseNdjson(logs.stdout).some((e) => e.type === 'summary')).toBe(true);
    const health = await runCli(['sandbox', 'health', '--session-id', sessionId, '--json'], { env });
    expect(health.code, health.stderr).toBe(0);
    const both = await runCli(['sandbox', 'health', sessionId, '--session-id', 'ffffffff'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('two sessions given');
  });

  it('bash completion offers flags and live session ids', async () => {
    const bin = temp('pcc-ux-bin-');
    writeFileSync(join(bin, 'parallel-cc'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'parallel-cc'), 0o755);
    const reg = await runCli(['register', '--repo', repo, '--pid', String(process.pid), '--json'], { env });
    expect(reg.code, reg.stderr).toBe(0);
    const live = String((JSON.parse(reg.stdout) as { sessionId: string }).sessionId);
    try {
      const complete = async (words: string[]): Promise<string[]> => {
        const script = `eval "$(parallel-cc completion bash)"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _parallel_cc parallel-cc '${words[words.length - 1] ?? ''}' '${words[words.length - 2] ?? ''}'; printf '%s\\n' "\${COMPREPLY[@]}"`;
        const child = spawn('bash', ['-c', script], { env: { ...env, PATH: `${bin}:${env.PATH ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        await new Promise((r) => child.on('close', r));
        return out.split('\n').filter(Boolean);
      };
      expect(await complete(['parallel-cc', 'sandbox', 'logs', '--fo'])).toEqual(['--follow']);
      expect(await complete(['parallel-cc', 'sandbox', 'lo'])).toEqual(['logs']);
      expect(await complete(['parallel-cc', 'sandbox', 'kill', ''])).toEqual([live]);
      expect(await complete(['parallel-cc', 'sandbox', 'health', '--session-id', live.slice(0, 3)])).toEqual([live]);
      const fish = await runCli(['completion', 'fish'], { env });
      expect(fish.stdout).toContain("-l follow");
      expect(fish.stdout).toContain('(parallel-cc __sessions 2>/dev/null)');
    } finally {
      await runCli(['release', '--pid', String(process.pid)], { env });
    }
  });

  it('bare parallel-cc prints the help on stdout and exits 0', async () => {
    const r = await runCli([], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: parallel-cc/);
    expect(r.stderr).toBe('');
  });

  it('config keys lists every key with type, default and env var; an unknown key lists the valid ones', async () => {
    const r = await runCli(['config', 'keys', '--json'], { env });
    const keys = JSON.parse(r.stdout) as Array<{ key: string; type: string; default: unknown; env: string | null }>;
    expect(keys).toContainEqual({ key: 'timeoutMinutes', type: 'number | duration (30m, 1800s)', default: 60, env: 'PARALLEL_CC_SANDBOX_TIMEOUT' });
    expect(keys).toContainEqual({ key: 'providers.docker.network', type: 'none | bridge | host', default: 'none', env: 'PARALLEL_CC_DOCKER_NETWORK' });
    expect(keys).toContainEqual({ key: 'uploadIgnorePatterns', type: 'string[]', default: [], env: null });
    const h = temp('pcc-ux-home-');
    writeFileSync(join(h, 'sandbox.json'), JSON.stringify({ providers: { docker: { imag: 'x' } } }));
    const bad = await runCli(['config', 'show'], { env: { ...env, PARALLEL_CC_HOME: h } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unrecognized key(s) in object: 'imag' (valid keys in providers.docker: providers.docker.image, providers.docker.network");
  });

  it('--dry-run summarises (largest files, every secret) and lists every file only with --verbose', async () => {
    const r2 = makeRepo({ 'big.bin': 'x'.repeat(5000), 'small.txt': 's\n', ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`src/f${i}.ts`, `export const v = ${i};\n`])) });
    created.push(r2);
    writeFiles(r2, { '.env': 'A=1\n', 'id_rsa': 'k\n' });
    const plain = await runCli(['sandbox', 'run', '--repo', r2, '--dry-run'], { env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('Upload      32 files');
    expect(plain.stdout).toMatch(/largest:\n\s+5\.0 kB {2}big\.bin/);
    expect(plain.stdout).toContain('Excluded    2 paths: 2 secrets, 0 ignored');
    expect(plain.stdout).toMatch(/- \.env \(secret\)\n {2}- id_rsa \(secret\)/);
    expect(plain.stdout).not.toContain('+ src/f7.ts');
    const verbose = await runCli(['sandbox', 'run', '--repo', r2, '--dry-run', '--verbose'], { env });
    expect(verbose.stdout).toContain('+ src/f7.ts');
  });
});

describe('npm run demo', () => {
  it('says where its throwaway folder is and removes it at the end', async () => {
    const tmp = temp('pcc-ux-tmp-');
    mkdirSync(join(tmp, 't'));
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'demo.ts')], { cwd: ROOT, env: { ...process.env, TMPDIR: join(tmp, 't'), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, err).toBe(0);
    const folder = /demo folder: (\S+)/.exec(err)?.[1];
    expect(folder?.startsWith(join(tmp, 't'))).toBe(true);
    expect(err).toContain(`removed the demo folder ${folder ?? ''}`);
    expect(readdirSync(join(tmp, 't')).filter((n) => n.startsWith('parallel-cc-demo-'))).toEqual([]);
  }, 120_000);
});
