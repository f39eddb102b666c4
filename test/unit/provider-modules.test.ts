/**
 * A provider is its folder plus one registry entry: a test-only provider module, registered from
 * here, gets its config section, env variable, `config keys` line, `sandbox run` flag, `--provider`
 * name, doctor line, redaction, timeout hint and lazily loaded implementation without any other
 * file knowing it. And no file outside src/providers names a provider.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildProgram } from '../../src/cli/program.js';
import { providerDoctorChecks } from '../../src/cli/commands/doctor.js';
import { parseProvider } from '../../src/cli/commands/run.js';
import { providerFlagConfig } from '../../src/cli/provider-flags.js';
import { configKeys } from '../../src/config/keys.js';
import { envMappings, loadConfig } from '../../src/config/load.js';
import type { Context } from '../../src/core/context.js';
import { Redactor } from '../../src/core/redact.js';
import { agentTimeout } from '../../src/core/run-steps.js';
import type { ProviderModule } from '../../src/providers/module.js';
import type { SandboxProvider } from '../../src/providers/provider.js';
import { createProvider, registerProviderModule } from '../../src/providers/registry.js';
import { tempDir } from '../helpers/git-repo.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = 'acme-secret-value-0123456789';

/** A provider that exists only in this test; `built` records what its factory was given. */
function acmeModule(built: Array<{ env: NodeJS.ProcessEnv; section: unknown }>): ProviderModule {
  return {
    name: 'acme',
    summary: 'acme',
    config: z.object({ region: z.enum(['north', 'south']).default('north') }).strict().default({}),
    env: [{ name: 'PARALLEL_CC_ACME_REGION', key: 'region', parse: (v) => v }],
    flags: [{ flags: '--acme-region <region>', help: 'region of --provider acme sandboxes', key: 'region' }],
    secrets: { env: ['ACME_TOKEN'], shapes: [/\bacme_[a-z0-9]{12,}/g] },
    doctor: ({ required, env }) => Promise.resolve([{ name: 'acme api', ok: Boolean(env.ACME_TOKEN), required, detail: env.ACME_TOKEN ? 'token set' : 'no token', fix: 'export ACME_TOKEN=…' }]),
    hints: { longerLifetime: 'ask acme for longer sandboxes' },
    load: () =>
      Promise.resolve((env, section) => {
        built.push({ env, section });
        return { name: 'acme' } as unknown as SandboxProvider;
      }),
  };
}

let unregister: (() => void) | undefined;
afterEach(() => {
  unregister?.();
  unregister = undefined;
});

function homeDir(files: Record<string, unknown> = {}): string {
  const home = tempDir('pcc-modules-');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(home, name), JSON.stringify(content));
  return home;
}

describe('a test-only provider module, registered from the test', () => {
  it('is unknown before it is registered', () => {
    expect(() => loadConfig({ home: homeDir({ 'sandbox.json': { providers: { acme: { region: 'south' } } } }), env: {} })).toThrow(/unrecognized key.*acme/i);
    expect(() => loadConfig({ home: homeDir(), env: { PARALLEL_CC_SANDBOX_PROVIDER: 'acme' } })).toThrow(/PARALLEL_CC_SANDBOX_PROVIDER/);
    expect(() => parseProvider('acme', 'native')).toThrow(/unknown provider "acme"/);
    expect(Redactor.fromEnv({ ACME_TOKEN: SECRET }).text(SECRET)).toBe(SECRET);
  });

  it('gets its config section, env variable, config keys line and default-provider name', () => {
    unregister = registerProviderModule(acmeModule([]));
    const fromFile = loadConfig({ home: homeDir({ 'sandbox.json': { defaultProvider: 'acme', providers: { acme: { region: 'south' } } } }), env: {} });
    expect(fromFile.config.defaultProvider).toBe('acme');
    expect((fromFile.config.providers as Record<string, unknown>).acme).toEqual({ region: 'south' });
    const fromEnv = loadConfig({ home: homeDir(), env: { PARALLEL_CC_ACME_REGION: 'south' } });
    expect((fromEnv.config.providers as Record<string, unknown>).acme).toEqual({ region: 'south' });
    expect(fromEnv.sources['providers.acme.region']).toBe('env PARALLEL_CC_ACME_REGION');
    // Its section is validated like any other: the error names the variable and the allowed values.
    expect(() => loadConfig({ home: homeDir(), env: { PARALLEL_CC_ACME_REGION: 'east' } })).toThrow(/PARALLEL_CC_ACME_REGION \(providers\.acme\.region\).*north/);
    expect(configKeys(envMappings())).toContainEqual({ key: 'providers.acme.region', type: 'north | south', default: 'north', env: 'PARALLEL_CC_ACME_REGION' });
    expect(parseProvider('acme', 'native')).toBe('acme');
  });

  it('gets its sandbox run flag with help, and the flag sets its config key', () => {
    unregister = registerProviderModule(acmeModule([]));
    const out = new PassThrough();
    const ctx = { cwd: ROOT, env: {}, home: homeDir(), now: () => new Date(), stdout: out, stderr: out, signal: new AbortController().signal } as unknown as Context;
    const run = buildProgram(ctx, () => undefined)
      .commands.find((c) => c.name() === 'sandbox')
      ?.commands.find((c) => c.name() === 'run');
    const help = run?.helpInformation() ?? '';
    expect(help).toMatch(/--acme-region <region>\s+region of --provider acme sandboxes/);
    expect(help).toMatch(/--provider <name>\s+sandbox provider: native \(default\), docker, e2b,\s+cloudflare, daytona or acme\n/);
    run?.parseOptions(['--acme-region', 'south']);
    expect(providerFlagConfig(run?.opts() ?? {})).toEqual({ providers: { acme: { region: 'south' } } });
    const { config, sources } = loadConfig({ home: homeDir(), env: {}, flags: providerFlagConfig({ acmeRegion: 'south' }) });
    expect((config.providers as Record<string, unknown>).acme).toEqual({ region: 'south' });
    expect(sources['providers.acme.region']).toBe('command-line flags');
  });

  it('gets its doctor line, required only when it is the default provider', async () => {
    unregister = registerProviderModule(acmeModule([]));
    const env = { PATH: process.env.PATH, ACME_TOKEN: SECRET };
    const asDefault = await providerDoctorChecks({ env, defaultProvider: 'acme', home: homeDir() });
    expect(asDefault).toContainEqual({ name: 'acme api', ok: true, required: true, detail: 'token set', fix: 'export ACME_TOKEN=…' });
    const other = await providerDoctorChecks({ env: { PATH: process.env.PATH }, defaultProvider: 'native', home: homeDir() });
    expect(other.find((c) => c.name === 'acme api')).toMatchObject({ ok: false, required: false });
  });

  it('gets its secrets redacted: the variable value and its token shape', () => {
    unregister = registerProviderModule(acmeModule([]));
    const r = Redactor.fromEnv({ ACME_TOKEN: SECRET });
    expect(r.text(`token ${SECRET} and acme_0123456789abcdef`)).toBe('token [REDACTED] and [REDACTED]');
  });

  it('says how to get longer-lived sandboxes when a run is cut short, and its implementation loads only when created', async () => {
    const built: Array<{ env: NodeJS.ProcessEnv; section: unknown }> = [];
    unregister = registerProviderModule(acmeModule(built));
    const now = 1_000_000;
    const box = { id: 'x', provider: 'acme' as never, workdir: '/w', homedir: '/h', agentPath: 'a', endpoints: {}, expiresAt: now + 30 * 60_000 };
    expect(agentTimeout(60, box, now).note).toMatch(/collected before that \(ask acme for longer sandboxes\)$/);
    const { config } = loadConfig({ home: homeDir(), env: { PARALLEL_CC_ACME_REGION: 'south' } });
    expect(built).toEqual([]);
    const provider = await createProvider('acme', { X: '1' }, config);
    expect(provider.name).toBe('acme');
    expect(built).toEqual([{ env: { X: '1' }, section: { region: 'south' } }]);
  });
});

describe('built-in provider modules', () => {
  it('load no implementation (no vendor SDK) until a provider is created: module.ts imports only zod, env parsers and types', () => {
    const dir = join(ROOT, 'src', 'providers');
    const modules = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory() && readdirSync(join(dir, d)).includes('module.ts'));
    expect(modules).toEqual(expect.arrayContaining(['native', 'docker', 'e2b', 'cloudflare', 'daytona']));
    for (const name of modules) {
      const text = readFileSync(join(dir, name, 'module.ts'), 'utf8');
      const runtimeImports = [...text.matchAll(/^import (?!type )[^;]*? from '([^']+)';$/gms)].map((m) => m[1]);
      expect(runtimeImports.filter((i) => i !== 'zod' && i !== '../../config/env-parse.js'), name).toEqual([]);
      expect(text, name).toMatch(/await import\('\.\/index\.js'\)/);
    }
  });
});

// The rule: outside src/providers, no provider name ('native', 'docker', 'e2b', 'daytona',
// 'cloudflare') may be a whole string literal ('…', "…" or `…`) in code. Comments are docs: lines
// starting with //, /* or * and the rest of a line after ` // ` are not code. Help and message
// prose ("use --provider docker") is not a provider name literal and stays allowed.
const NAME_LITERAL = /(['"`])(native|docker|e2b|daytona|cloudflare)\1/;

/** The lines of a source text that name a provider as a string literal, comments excepted. */
function nameLiterals(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .map((line) => line.replace(/\s\/\/\s.*$/, ''))
    .filter((line) => NAME_LITERAL.test(line));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|js|cjs|mjs)$/.test(entry) ? [path] : [];
  });
}

describe('no provider name outside src/providers', () => {
  it('the rule catches a literal in code and ignores comments and prose', () => {
    expect(nameLiterals(["const p = 'docker';", "if (x === \"e2b\") y();", 'const t = `native`;'].join('\n'))).toHaveLength(3);
    expect(nameLiterals(["// 'docker' is the default", " * e.g. 'native'", "run(); // not 'e2b'", "hint: 'use --provider docker or native'"].join('\n'))).toEqual([]);
  });

  it('finds none in src/ outside src/providers', () => {
    const src = join(ROOT, 'src');
    const found = sourceFiles(src)
      .filter((f) => !relative(src, f).startsWith('providers/'))
      .flatMap((f) => nameLiterals(readFileSync(f, 'utf8')).map((line) => `${relative(ROOT, f)}: ${line.trim()}`));
    expect(found).toEqual([]);
  });
});
