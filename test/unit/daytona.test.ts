/**
 * The Daytona provider's own pieces that need no emulator: the pricing table, its config keys and
 * env variables, and the session command that receives its env over stdin (run here with a real
 * bash, as a Daytona session would source it).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { envInput, sessionCommand } from '../../src/providers/daytona/exec.js';
import { DAYTONA_RATES, daytonaModule, daytonaPricing } from '../../src/providers/daytona/module.js';
import { tempDir } from '../helpers/git-repo.js';

describe('daytona pricing', () => {
  it('prices a sandbox per second from its resources (vCPU, memory GiB, disk GiB), the default snapshot when unset', () => {
    expect(daytonaPricing()).toEqual({ usdPerHour: 0.066924, minimumSeconds: 1 });
    const big = daytonaPricing({ cpu: 4, memory: 8, disk: 20 });
    expect(big.usdPerHour).toBeCloseTo((4 * DAYTONA_RATES.usdPerVcpuSecond + 8 * DAYTONA_RATES.usdPerGibMemorySecond + 20 * DAYTONA_RATES.usdPerGibDiskSecond) * 3600, 6);
  });
});

describe('daytona config', () => {
  it('takes target, snapshot, intervals and keep-alive from its env variables; auto-delete always has a value', () => {
    const home = tempDir();
    const base = loadConfig({ home, env: {} }).config.providers.daytona;
    expect(base).toMatchObject({ autoStopInterval: 15, autoArchiveInterval: 60, autoDeleteInterval: 120, keepAliveSeconds: 60 });
    expect(base.target).toBeUndefined();
    const env = { PARALLEL_CC_DAYTONA_TARGET: 'eu', PARALLEL_CC_DAYTONA_SNAPSHOT: 'mine', PARALLEL_CC_DAYTONA_AUTO_STOP: '30', PARALLEL_CC_DAYTONA_AUTO_ARCHIVE: '0', PARALLEL_CC_DAYTONA_AUTO_DELETE: '0', PARALLEL_CC_DAYTONA_KEEPALIVE: '5' };
    expect(loadConfig({ home, env }).config.providers.daytona).toMatchObject({ target: 'eu', snapshot: 'mine', autoStopInterval: 30, autoArchiveInterval: 0, autoDeleteInterval: 0, keepAliveSeconds: 5 });
    expect(() => loadConfig({ home, env: { PARALLEL_CC_DAYTONA_AUTO_DELETE: '-1' } })).toThrow();
  });
});

describe('daytona and environment templates', () => {
  it('takes the snapshot and resources of a template (whole vCPUs and GiB, rounded up) and names what it ignores', () => {
    const mapped = daytonaModule.fromTemplate?.({ name: 't', daytonaSnapshot: 'py', cpus: 1.5, memory: '1536MB', disk: '8GB', image: 'x', e2bTemplate: 'y' }, { cpus: 2 });
    expect(mapped).toEqual({ config: { snapshot: 'py', cpu: 2, memory: 2, disk: 8 }, ignored: ['image', 'e2bTemplate', 'cloudflareInstanceType'] });
    expect(daytonaModule.fromTemplate?.({ name: 'empty' }, { cpus: 2 })?.config).toEqual({});
  });
});

describe('daytona session command', () => {
  it('exports the env it reads from stdin exactly (quotes, newlines, $(…), UTF-8), writes its pid, runs in its cwd', () => {
    const dir = tempDir();
    const env = { v: 'short names survive', kv: 'too', A: `it's "q" \\ $(touch ${join(dir, 'pwned')}) \`x\``, B: 'two\nlines\n', C: 'ünï ☃ 😀', EMPTY: '' };
    const cmd = sessionCommand({ argv: ['sh', '-c', 'printf "%s|" "$v" "$kv" "$A" "$B" "$C" "$EMPTY" "$(pwd)"'], env, cwd: dir }, {}, join(dir, 'pid'));
    // A session sources the command in its shell; its stdin is the command's input pipe.
    const out = execFileSync('bash', ['-c', cmd], { input: envInput(env), encoding: 'utf8' });
    expect(out).toBe(`${env.v}|${env.kv}|${env.A}|${env.B}|${env.C}||${dir}|`);
    expect(readFileSync(join(dir, 'pid'), 'utf8').trim()).toMatch(/^\d+$/);
    expect(() => readFileSync(join(dir, 'pwned'))).toThrow();
    // The values travel base64 on stdin only: the command line holds none of them.
    for (const v of Object.values(env).filter(Boolean)) expect(cmd).not.toContain(v);
  });

  it('refuses env names a shell cannot export', () => {
    expect(() => sessionCommand({ argv: ['true'], env: { 'A-B': 'x' }, cwd: '/' }, {}, '/tmp/p')).toThrow(/invalid environment variable name/);
  });
});
