import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveWorktree } from '../../src/core/run-options/worktree.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { checkSessionOptions, parseGitIdentity, parseWorkingDir } from '../../src/core/run-options/checks.js';
import { focusPhase, planPhases } from '../../src/core/run-options/focus-phase.js';
import { parseSrtConfig } from '../../src/providers/native/srt-config.js';
import { bwrapOptions } from '../../src/providers/native/bwrap-argv.js';

describe('--focus-phase', () => {
  const plan = [
    '# Plan',
    'intro',
    '## Phase 1: setup',
    'one',
    '```md',
    '## Phase 2: not a heading, inside a fence',
    '```',
    '#### Phase 2 — tests ##',
    'two',
    '##### sub-heading of phase two',
    'still two',
    'Phase 3 in prose is not a heading',
    '# PHASE 3',
    'three',
    '',
  ].join('\n');

  it('finds phase headings at any level, outside fences, case-insensitive', () => {
    expect(planPhases(plan).map((p) => [p.n, p.heading])).toEqual([
      [1, '## Phase 1: setup'],
      [2, '#### Phase 2 — tests ##'],
      [3, '# PHASE 3'],
    ]);
  });

  it('cuts from the heading to the next phase heading; the last phase to the end', () => {
    expect(focusPhase(plan, '2', 'PLAN.md')).toBe('#### Phase 2 — tests ##\ntwo\n##### sub-heading of phase two\nstill two\nPhase 3 in prose is not a heading\n');
    expect(focusPhase(plan, '1', 'PLAN.md')).toBe('## Phase 1: setup\none\n```md\n## Phase 2: not a heading, inside a fence\n```\n');
    expect(focusPhase(plan, '3', 'PLAN.md')).toBe('# PHASE 3\nthree\n');
    expect(focusPhase('## Phase 1\r\na\r\n## Phase 2\r\nb\r\n', '1', 'x')).toBe('## Phase 1\r\na\r\n');
  });

  it('refuses a missing phase (listing those found), a duplicate, and a non-number', () => {
    expect(() => focusPhase(plan, '4', 'PLAN.md')).toThrow(/PLAN\.md has no "Phase 4" heading \(phases found: ## Phase 1: setup; #### Phase 2 — tests ##; # PHASE 3\)/);
    expect(() => focusPhase('no phases here', '1', 'p.md')).toThrow(/phases found: none/);
    expect(() => focusPhase('# Phase 1\n# Phase 1 again\n', '1', 'p.md')).toThrow(/has 2 "Phase 1" headings/);
    for (const bad of ['two', '-1', '1.5', '']) expect(() => focusPhase(plan, bad, 'p.md')).toThrow(/must be a phase number/);
    // "Phase 10" is not phase 1.
    expect(() => focusPhase('## Phase 10\nx\n', '1', 'p.md')).toThrow(/no "Phase 1" heading/);
  });
});

describe('--working-dir', () => {
  it('takes absolute, normalized folders outside the reserved ones', () => {
    for (const ok of ['/workspace', '/src/app', '/home/user/project', '/opt/app', '/var/lib/work', '/w']) expect(parseWorkingDir(ok)).toBe(ok);
    expect(parseWorkingDir(undefined)).toBeUndefined();
  });
  it.each([
    ['src', /not an absolute path/],
    ['/', /root folder/],
    ['/a/./b', /"\." or "\.\."/],
    ['/a/b/', /not normalized \(write \/a\/b\)/],
    ['/sys/x', /below \/sys/],
    ['/dev', /is \/dev/],
    ['/tmp/x', /below \/tmp/],
    ['/opt/parallel-cc/x', /below \/opt\/parallel-cc/],
    ['/home', /contains \/home\/agent/],
    ['/var', /contains \/var\/run/],
    ['/a:b', /":"/],
    [`/${'a'.repeat(220)}`, /longer than 200/],
  ])('refuses %s', (raw, why) => {
    expect(() => parseWorkingDir(raw)).toThrow(why);
  });
  it('is refused by a provider that fixes the folder', () => {
    expect(() => checkSessionOptions({ workdir: '/src' }, { name: 'acme', capabilities: {} })).toThrow(/the acme provider fixes/);
    expect(() => checkSessionOptions({ workdir: '/src' }, { name: 'acme', capabilities: { workdirChoice: true } })).not.toThrow();
    expect(() => checkSessionOptions({}, { name: 'acme', capabilities: {} })).not.toThrow();
  });
});

describe('--git-user / --git-email', () => {
  const host = { name: 'Host User', email: 'host@example.com' };
  it('fills the half not given from the host identity', () => {
    expect(parseGitIdentity(undefined, undefined, host)).toBeUndefined();
    expect(parseGitIdentity('Bot', undefined, host)).toEqual({ name: 'Bot', email: 'host@example.com' });
    expect(parseGitIdentity(undefined, 'bot@x.io', host)).toEqual({ name: 'Host User', email: 'bot@x.io' });
  });
  it.each([['a\rb', undefined], ['<evil>', undefined], [' ', undefined], [undefined, 'a@b>'], [undefined, 'a@@b'], [undefined, 'a b@c']])('refuses %j / %j', (u, e) => {
    expect(() => parseGitIdentity(u, e, host)).toThrow(/--git-(user|email)/);
  });
});

describe('--native-config (srt settings)', () => {
  it('maps allowedDomains, denyRead and allowWrite onto the native section', () => {
    const r = parseSrtConfig(JSON.stringify({ network: { allowedDomains: ['registry.npmjs.org'] }, filesystem: { denyRead: ['~/.ssh', '/usr/share/doc'], allowWrite: ['.', 'src', '/tmp', '/workspace/out'] } }));
    expect(r).toEqual({ section: { allowedDomains: ['registry.npmjs.org'], filesystem: { denyRead: ['~/.ssh', '/usr/share/doc'], allowWrite: ['.', 'src', '/tmp', '/workspace/out'] } } });
    expect(parseSrtConfig('{}')).toEqual({ section: {} });
  });
  it('names every key it cannot honour', () => {
    const r = parseSrtConfig(JSON.stringify({ network: { allowedDomains: 'x', allowUnixSockets: [] }, filesystem: { allowWrite: ['../up', '~/x', '/srv'] }, ignoreViolations: {} }));
    expect('problems' in r && r.problems).toEqual([
      expect.stringMatching(/^network\.allowedDomains: Expected array/),
      expect.stringMatching(/^network\.allowUnixSockets: cannot be honoured .*no host socket/),
      expect.stringMatching(/^ignoreViolations: cannot be honoured/),
    ]);
    const w = parseSrtConfig(JSON.stringify({ filesystem: { allowWrite: ['../up', '~/x', '/srv'], denyRead: ['rel', '/home/agent/.x', '/tmp'] } }));
    expect('problems' in w && w.problems.map((p) => p.split(':')[0])).toEqual(['filesystem.denyRead[0] "rel"', 'filesystem.denyRead[1] "/home/agent/.x"', 'filesystem.denyRead[2] "/tmp"', 'filesystem.allowWrite[0] "../up"', 'filesystem.allowWrite[1] "~/x"', 'filesystem.allowWrite[2] "/srv"']);
    expect(parseSrtConfig('[1')).toEqual({ problems: [expect.stringMatching(/^not JSON/)] });
    expect(parseSrtConfig('[]')).toEqual({ problems: [expect.stringMatching(/^\(top level\): Expected object/)] });
  });
  it('a folder mask is an empty tmpfs in the bwrap options, after the mounts it covers', () => {
    const opts = bwrapOptions({ system: [{ kind: 'ro-bind', src: '/usr', dest: '/usr' }], mounts: [{ kind: 'tmpfs', src: '', dest: '/usr/share/doc' }], uid: 1000, gid: 1000, hostname: 'h', cwd: '/w', env: {}, argv: ['true'] });
    const at = opts.indexOf('/usr/share/doc');
    expect(opts.slice(at - 1, at + 1)).toEqual(['--tmpfs', '/usr/share/doc']);
    expect(at).toBeGreaterThan(opts.lastIndexOf('/usr'));
  });
});

describe('--worktree resolution', () => {
  const setup = (): { repo: string; wt: string; sessions: SessionRepository; close: () => void } => {
    const repo = makeRepo();
    const wt = join(tempDir('pcc-wt-'), 'repo-abcd1234');
    git(repo, 'worktree', 'add', '-q', '-b', 'feature/mine', wt);
    const db = openDb(join(tempDir(), 'coordinator.db'));
    return { repo, wt, sessions: new SessionRepository(db), close: () => db.close() };
  };

  it('finds a recorded session branch by id, branch, folder name or path; refuses it while its session is live', async () => {
    const { repo, wt, sessions, close } = setup();
    try {
      const root = git(repo, 'rev-parse', '--show-toplevel');
      // Not a session branch (nothing recorded, no parallel-cc/ prefix).
      await expect(resolveWorktree(root, wt, { cwd: repo, sessions, includeDirty: false })).rejects.toThrow(/on branch feature\/mine, not a session branch/);
      sessions.create({ id: 'abcd1234', repoPath: root, provider: 'test', branch: 'feature/mine', worktreePath: wt, status: 'running' });
      await expect(resolveWorktree(root, 'abcd1234', { cwd: repo, sessions, includeDirty: false })).rejects.toThrow(/session abcd1234 is still running on feature\/mine/);
      sessions.update('abcd1234', { status: 'completed' });
      const head = git(wt, 'rev-parse', 'HEAD');
      for (const name of ['abcd1234', 'feature/mine', 'repo-abcd1234', wt]) {
        const found = await resolveWorktree(root, name, { cwd: repo, sessions, includeDirty: false });
        expect({ ...found, path: found.path.split('/').pop() }).toEqual({ path: 'repo-abcd1234', branch: 'feature/mine', head, dirty: false, includeDirty: false });
      }
    } finally {
      close();
    }
  });
});
