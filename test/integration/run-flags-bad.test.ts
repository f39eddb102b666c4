/**
 * Every bad value of the #27 flags is exit 2 with a clear message, and nothing is created: no
 * registry (rows or file), no worktree, no branch, no sandbox folder, no container.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const DOCKER = dockerReady();


const containersOf = (repo: string): string[] =>
  DOCKER ? execFileSync('docker', ['ps', '-a', '--filter', `label=parallel-cc.repo=${repo}`, '--format', '{{.Names}}'], { encoding: 'utf8' }).split('\n').filter(Boolean) : [];

describe('bad values of the #27 run flags', () => {
  const dir = tempDir('pcc-flags-bad-');
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const plan = file('PLAN.md', '# Plan\n## Phase 1: a\nx\n## Phase 3: c\ny\n');
  const srt = (v: unknown): string => file(`srt-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(v));
  const e2bKey = `e2b_${'a'.repeat(40)}`;

  const cases: Array<[string, string[], RegExp]> = [
    ['relative --working-dir', ['--working-dir', 'src/app'], /--working-dir "src\/app" is not an absolute path/],
    ['--working-dir /', ['--working-dir', '/'], /is the root folder/],
    ['--working-dir with ..', ['--working-dir', '/src/../etc'], /contains "\." or "\.\." components/],
    ['--working-dir not normalized', ['--working-dir', '/src//app'], /is not normalized/],
    ['--working-dir below /proc', ['--working-dir', '/proc/self'], /is below \/proc, which the sandbox reserves/],
    ['--working-dir below /usr', ['--working-dir', '/usr/local/app'], /below \/usr/],
    ['--working-dir /etc', ['--working-dir', '/etc'], /is \/etc, which the sandbox reserves/],
    ['--working-dir above our own folders', ['--working-dir', '/opt'], /contains \/opt\/parallel-cc/],
    ['--working-dir with a control character', ['--working-dir', '/src/a\tb'], /control character/],
    ['--working-dir where the provider fixes it', ['--working-dir', '/src/app', '--provider', 'e2b'], /the e2b provider fixes the agent's working folder/],
    ['invalid --branch', ['--branch', 'bad..name'], /--branch "bad\.\.name" is not a valid branch name/],
    ['--branch starting with -', ['--branch', '-x'], /not a valid branch name/],
    ['existing --branch', ['--branch', 'main'], /--branch main already exists/],
    ['--git-user with a newline', ['--git-user', 'a\nb'], /--git-user .* control character/],
    ['--git-email with <>', ['--git-email', 'x<y@z.com'], /--git-email .* "<" or ">"/],
    ['--git-email without @', ['--git-email', 'nobody'], /--git-email "nobody" is not an email address/],
    ['unknown --worktree', ['--worktree', 'nope'], /--worktree nope is not a worktree of/],
    ['--worktree of the main checkout', ['--worktree', '.'], /is not a worktree of/],
    ['--include-dirty alone', ['--include-dirty'], /--include-dirty needs --worktree/],
    ['--worktree with --base', ['--worktree', 'x', '--base', 'main'], /--worktree and --base cannot be combined/],
    ['--focus-phase without --prompt-file', ['--focus-phase', '1'], /--focus-phase needs --prompt-file/],
    ['--focus-phase missing', ['--prompt-file', plan, '--focus-phase', '2'], /has no "Phase 2" heading \(phases found: ## Phase 1: a; ## Phase 3: c\)/],
    ['--focus-phase not a number', ['--prompt-file', plan, '--focus-phase', 'two'], /--focus-phase must be a phase number/],
    ['--native-config not JSON', ['--native-config', file('bad.json', '{nope')], /--native-config .*: not JSON/],
    ['--native-config missing file', ['--native-config', join(dir, 'absent.json')], /cannot read --native-config/],
    ['--native-config with keys we cannot honour', ['--native-config', srt({ network: { allowedDomains: ['x.example.com'], deniedDomains: ['y.example.com'] }, filesystem: { denyWrite: ['/x'] }, extra: 1 })], /network\.deniedDomains: cannot be honoured.*filesystem\.denyWrite: cannot be honoured.*extra: cannot be honoured/],
    ['--native-config relative denyRead', ['--native-config', srt({ filesystem: { denyRead: ['secrets'] } })], /filesystem\.denyRead\[0\] "secrets": give an absolute/],
    ['--native-config denyRead in the workspace', ['--native-config', srt({ filesystem: { denyRead: ['/workspace/.env'] } })], /filesystem\.denyRead\[0\] .*inside the sandbox's own folders/],
    ['--native-config allowWrite outside', ['--native-config', srt({ filesystem: { allowWrite: ['/etc'] } })], /filesystem\.allowWrite\[0\] "\/etc": cannot be honoured/],
    ['--native-config bad allowlist entry', ['--native-config', srt({ network: { allowedDomains: ['http://x'] } })], /invalid allowlist entry/],
    ['--native-config with another provider', ['--native-config', srt({}), '--provider', 'docker'], /--native-config configures the native provider; this run uses docker/],
    ['--branch with --multi', ['--multi', '--task', 'x', '--branch', 'feature/x'], /--branch applies to one session, not to --multi/],
    ['--working-dir with --multi on a fixed provider', ['--multi', '--task', 'x', '--working-dir', '/src', '--provider', 'e2b'], /the e2b provider fixes/],
  ];

  it.each(cases)('%s: exit 2, nothing created', async (_name, args, message) => {
    const repo = makeRepo();
    const home = tempDir('pcc-home-');
    // A sandbox root of this case alone: other test files create sandboxes meanwhile.
    const sandboxRoot = tempDir('pcc-sbx-');
    const prompt = args.includes('--prompt-file') || args.includes('--multi') ? [] : ['--prompt', 'x'];
    const r = await runCli(['sandbox', 'run', '--repo', repo, ...prompt, ...args], {
      cwd: repo,
      env: { ...process.env, PARALLEL_CC_HOME: home, PARALLEL_CC_SANDBOX_ROOT: sandboxRoot, ANTHROPIC_API_KEY: `sk-ant-bad-${'b'.repeat(24)}`, E2B_API_KEY: e2bKey, NO_COLOR: '1' },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(home, 'coordinator.db'))).toBe(false);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(repo, 'branch', '--format=%(refname:short)')).toBe('main');
    expect(readdirSync(sandboxRoot)).toEqual([]);
    expect(containersOf(repo)).toEqual([]);
  });

  // A dry run makes the run's checks: one that passes is a run that starts.
  const dryCases = cases.filter(([name]) => ['--working-dir where the provider fixes it', 'invalid --branch', 'existing --branch', '--git-email without @', 'unknown --worktree', '--include-dirty alone', '--worktree with --base'].includes(name));
  it.each(dryCases)('%s, with --dry-run: exit 2 as well', async (_name, args, message) => {
    const repo = makeRepo();
    const home = tempDir('pcc-home-');
    const r = await runCli(['sandbox', 'run', '--dry-run', '--repo', repo, '--prompt', 'x', ...args], { cwd: repo, env: { ...process.env, PARALLEL_CC_HOME: home, E2B_API_KEY: e2bKey, NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(home, 'coordinator.db'))).toBe(false);
  });

  it('lists the new flags in --help and in the generated completion', async () => {
    const env = { ...process.env, NO_COLOR: '1' };
    const help = await runCli(['sandbox', 'run', '--help'], { env });
    const bash = await runCli(['completion', 'bash'], { env });
    for (const flag of ['--working-dir', '--worktree', '--include-dirty', '--branch', '--git-user', '--git-email', '--upload-repo', '--focus-phase', '--stream', '--native-config', '--daytona-target']) {
      expect(help.stdout, flag).toContain(flag);
      expect(bash.stdout, flag).toMatch(new RegExp(`"sandbox run"\\) opts="[^"]*${flag}( |")`));
    }
  });
});
