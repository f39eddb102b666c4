/**
 * Environment templates: each built-in one runs the spine on docker with its limits in `docker
 * inspect` (its base image is the test image under the template's tag: no registry here); a
 * template's env reaches the agent; user and repo templates override by name; `templates list
 * --json` is stable; a bad file names file and key; `--sandbox-config` is an inline template; a
 * provider says which fields it ignores.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine } from '../helpers/spine.js';

const READY = dockerReady();
const TAGS = { python: 'python:3.11-slim', node: 'node:18-alpine', general: 'ubuntu:22.04', minimal: 'alpine:3.18' } as const;
const tagged: string[] = [];
afterAll(() => {
  for (const t of tagged) execFileSync('docker', ['image', 'rm', t], { stdio: 'ignore' });
});
const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1' });
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();

describe('templates', () => {
  it.skipIf(!READY).each(Object.entries(TAGS))('built-in %s runs the spine on docker (%s) with its limits in docker inspect', async (name, image) => {
    if (!docker('images', '-q', image)) {
      docker('tag', 'parallel-cc-agent:latest', image);
      tagged.push(image);
    }
    const home = tempDir();
    const { summary, events } = await runSpine({ provider: 'docker', agent: 'command', env: env(home), args: ['--template', name, '--hook-timeout', '30s', '--no-cleanup'] });
    const id = String(summary.sessionId);
    const [container] = docker('ps', '-aq', '--filter', `label=parallel-cc.session=${id}`).split('\n');
    const inspect = JSON.parse(docker('inspect', String(container))) as Array<{ Config: { Image: string }; HostConfig: { NanoCpus: number; Memory: number } }>;
    const t = { python: [2, 2048], node: [2, 2048], general: [4, 4096], minimal: [1, 512] }[name as keyof typeof TAGS] as [number, number];
    const cpus = Math.min(t[0], Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    expect(inspect[0]?.Config.Image).toBe(image);
    expect(inspect[0]?.HostConfig.NanoCpus).toBe(cpus * 1e9);
    expect(inspect[0]?.HostConfig.Memory).toBe(t[1] * 1024 * 1024);
    if (cpus < t[0]) expect(events.some((e) => e.type === 'warning' && String(e.message).includes(`asks for ${t[0]} CPUs`))).toBe(true);
    expect(events.some((e) => e.type === 'warning' && String(e.message).includes('the docker provider ignores'))).toBe(false);
    const row = (JSON.parse((await runCli(['history', '--json'], { env: env(home) })).stdout) as { entries: Array<Record<string, unknown>> }).entries[0];
    expect(row?.template).toBe(name);
    const cleanup = await runCli(['cleanup'], { env: env(home) });
    expect(cleanup.code).toBe(0);
    expect(leftoverContainers([id])).toEqual([]);
  });

  it('a template’s env reaches the agent; user and repo templates override by name; list --json is stable; show says what each provider ignores', async () => {
    const home = tempDir();
    const repo = makeRepo({ 'README.md': '# r\n' });
    writeFiles(home, { 'templates/python.json': JSON.stringify({ name: 'python', description: 'mine', env: { PCC_TPL: 'user' } }) });
    writeFiles(repo, { '.parallel-cc/templates/python.json': JSON.stringify({ name: 'python', description: 'the repo’s', env: { PCC_TPL: 'repo' } }), '.parallel-cc/templates/tiny.json': JSON.stringify({ name: 'tiny', memory: '256MB', cpus: 1, setup: ['echo from-setup > set.txt'], onSuccess: 'test -f out.txt' }) });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'templates');
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--template', 'python', '--agent-cli', 'command', '--agent-command', 'sh -c "echo $PCC_TPL > tpl.txt"', '--json'], { env: env(home) });
    expect(r.code, r.stderr).toBe(0);
    const s = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as { branch: string };
    expect(git(repo, 'show', `${s.branch}:tpl.txt`)).toBe('repo');
    const list = await runCli(['templates', 'list', '--repo', repo, '--json'], { env: env(home) });
    const names = (JSON.parse(list.stdout) as Array<{ name: string; source: string }>).map((t) => `${t.name}:${t.source}`);
    expect(names).toEqual(['general:builtin', 'minimal:builtin', 'node:builtin', 'python:repo', 'tiny:repo']);
    const again = await runCli(['templates', 'list', '--repo', repo, '--json'], { env: env(home) });
    expect(again.stdout).toBe(list.stdout);
    const show = await runCli(['templates', 'show', 'node', '--json'], { env: env(home) });
    const providers = (JSON.parse(show.stdout) as { providers: Array<{ provider: string; ignored: string[] }> }).providers;
    expect(providers.find((p) => p.provider === 'native')?.ignored).toEqual(['image', 'cpus']);
    expect(providers.find((p) => p.provider === 'docker')?.ignored).toEqual([]);
    // A template's own hooks: setup ran (in the environment, not the work), the check failed the run.
    const tiny = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--template', 'tiny', '--agent-cli', 'command', '--agent-command', 'sh -c "cat set.txt > seen.txt"', '--json'], { env: env(home) });
    const ts = parseNdjson(tiny.stdout).find((e) => e.type === 'summary')?.summary as { branch: string; reason: string };
    expect(ts.reason).toBe('check_failed');
    expect(git(repo, 'show', `${ts.branch}:seen.txt`)).toBe('from-setup');
    // On native a docker image means nothing: said, not silently dropped.
    const native = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--template', 'minimal', '--agent-cli', 'command', '--agent-command', 'true', '--json'], { env: env(home) });
    expect(native.code, native.stderr).toBe(0);
    expect(parseNdjson(native.stdout).find((e) => e.type === 'warning')?.message).toBe('template minimal: the native provider ignores image, cpus');
  });

  it('a bad template file or --sandbox-config names the file and the key; --sandbox-config is an inline template', async () => {
    const home = tempDir();
    const dir = tempDir();
    writeFiles(dir, { 'bad.json': JSON.stringify({ name: 'bad', cpus: 'two' }), 'typo.json': JSON.stringify({ name: 'x', memroy: '1g' }), 'sc.json': JSON.stringify({ image: 'anthropic-claude-code', cpu: 2, memory: 1024, env: { PCC_SC: 'inline' } }) });
    const repo = makeRepo();
    const run = (...extra: string[]) => runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command', ...extra], { env: env(home) });
    const bad = await run('--agent-command', 'true', '--template', join(dir, 'bad.json'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`template ${join(dir, 'bad.json')}: cpus: Expected number, received string`);
    const typo = await run('--agent-command', 'true', '--template', join(dir, 'typo.json'));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/typo\.json: \(top level\): Unrecognized key\(s\) in object: 'memroy'/);
    expect((await run('--agent-command', 'true', '--template', 'nope')).stderr).toMatch(/unknown template "nope".*\n.*general, minimal, node, python/);
    const sc = await run('--agent-command', 'sh -c "echo $PCC_SC > sc.txt"', '--sandbox-config', join(dir, 'sc.json'), '--json');
    expect(sc.code, sc.stderr).toBe(0);
    const s = parseNdjson(sc.stdout).find((e) => e.type === 'summary')?.summary as { branch: string };
    expect(git(repo, 'show', `${s.branch}:sc.txt`)).toBe('inline');
  });
});
