import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/git-repo.js';

describe('loadConfig precedence: defaults < sandbox.json < .parallel-cc.json < env < flags', () => {
  const setup = (home: object | undefined, repo: object | undefined): { home: string; repoRoot: string } => {
    const dir = tempDir();
    const h = join(dir, 'home');
    const r = join(dir, 'repo');
    mkdirSync(h);
    mkdirSync(r);
    if (home) writeFileSync(join(h, 'sandbox.json'), JSON.stringify(home));
    if (repo) writeFileSync(join(r, '.parallel-cc.json'), JSON.stringify(repo));
    return { home: h, repoRoot: r };
  };

  it('uses defaults when nothing is set', () => {
    const { config, sources } = loadConfig({ ...setup(undefined, undefined), env: {} });
    expect(config.defaultProvider).toBe('native');
    expect(config.timeoutMinutes).toBe(60);
    expect(config.providers.docker.memoryLimit).toBe('2g');
    expect(sources.defaultProvider).toBe('default');
  });
  it('lets the home file override defaults', () => {
    const p = setup({ providers: { docker: { network: 'bridge' } } }, undefined);
    const { config, sources } = loadConfig({ ...p, env: {} });
    expect(config.providers.docker.network).toBe('bridge');
    expect(config.providers.docker.image).toBe('parallel-cc-agent:latest');
    expect(sources['providers.docker.network']).toBe(join(p.home, 'sandbox.json'));
  });
  it('lets the repo file override the home file', () => {
    const { config } = loadConfig({ ...setup({ timeoutMinutes: 30 }, { timeoutMinutes: 20 }), env: {} });
    expect(config.timeoutMinutes).toBe(20);
  });
  it('lets env override files (with the spec\'s units and lists)', () => {
    const { config, sources } = loadConfig({
      ...setup({ timeoutMinutes: 30 }, { timeoutMinutes: 20 }),
      env: { PARALLEL_CC_SANDBOX_TIMEOUT: '600', PARALLEL_CC_NATIVE_ALLOWED_DOMAINS: 'github.com, *.npmjs.org', PARALLEL_CC_DOCKER_CPU_LIMIT: '2' },
    });
    expect(config.timeoutMinutes).toBe(10);
    expect(config.providers.native.allowedDomains).toEqual(['github.com', '*.npmjs.org']);
    expect(config.providers.docker.cpuLimit).toBe(2);
    expect(sources.timeoutMinutes).toBe('env PARALLEL_CC_SANDBOX_TIMEOUT');
  });
  it('lets flags override env', () => {
    const { config, sources } = loadConfig({ ...setup(undefined, undefined), env: { PARALLEL_CC_SANDBOX_PROVIDER: 'docker' }, flags: { defaultProvider: 'e2b' } });
    expect(config.defaultProvider).toBe('e2b');
    expect(sources.defaultProvider).toBe('command-line flags');
  });
  it('names the file, key and allowed values of a bad value', () => {
    const p = setup({ providers: { docker: { network: 'wifi' } } }, undefined);
    expect(() => loadConfig({ ...p, env: {} })).toThrow(new RegExp(`${join(p.home, 'sandbox.json')}.*providers\\.docker\\.network.*'none' \\| 'bridge' \\| 'host'`));
  });
  it('rejects unknown keys and malformed JSON instead of ignoring them', () => {
    expect(() => loadConfig({ ...setup({ defaultProvidr: 'x' }, undefined), env: {} })).toThrow(/defaultProvidr/);
    const p = setup(undefined, undefined);
    writeFileSync(join(p.home, 'sandbox.json'), '{ nope');
    expect(() => loadConfig({ ...p, env: {} })).toThrow(/sandbox\.json is not valid JSON/);
  });
  it('names the variable of a bad env value', () => {
    expect(() => loadConfig({ ...setup(undefined, undefined), env: { PARALLEL_CC_DOCKER_NETWORK: 'wifi' } })).toThrow(/PARALLEL_CC_DOCKER_NETWORK/);
  });
});
