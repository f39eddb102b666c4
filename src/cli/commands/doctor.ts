import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { agentFor } from '../../agents/registry.js';
import { agentDoctorChecks } from './doctor-agents.js';
import { loadConfig } from '../../config/load.js';
import { homePaths, type Context } from '../../core/context.js';
import { run } from '../../core/exec.js';
import { resolveCredential } from '../../core/credentials.js';
import { checkModelApi } from '../../core/net/api-check.js';
import type { DoctorCheck } from '../../providers/module.js';
import { createProvider, DEFAULT_PROVIDER, providerModules } from '../../providers/registry.js';
import { openDb } from '../../store/db.js';

/** Options of `parallel-cc doctor`. */
export interface DoctorFlags {
  sandbox?: boolean;
  json?: boolean;
}

/** One check: ✓ or ✗, whether a failure blocks parallel-cc, and the fix. */
export type Check = DoctorCheck;

async function probe(argv: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await run(argv, { env, timeoutMs: 15_000 });
    return { ok: true, out: (r.stdout.toString() + r.stderr).trim() };
  } catch (e) {
    return { ok: false, out: (e as Error).message.split('\n')[0] ?? '' };
  }
}

/**
 * The checks of every registered provider module, each followed by whether its SDK is installed
 * (listed by `doctor --sandbox`, or when required). A provider's failures are required ones only
 * when it is the default provider.
 */
export async function providerDoctorChecks(input: { env: NodeJS.ProcessEnv; defaultProvider: string; home: string }): Promise<Check[]> {
  const { env } = input;
  const req = createRequire(import.meta.url);
  const checks: Check[] = [];
  for (const m of providerModules()) {
    const required = m.name === input.defaultProvider;
    if (m.doctor)
      checks.push(
        ...(await m.doctor({
          env,
          required,
          probe: (argv) => probe(argv, env),
          create: () => createProvider(m.name, env, loadConfig({ home: input.home, env }).config),
        })),
      );
    if (m.sdk) {
      let ok = true;
      try {
        req.resolve(m.sdk);
      } catch {
        ok = false;
      }
      checks.push({ name: `sdk ${m.sdk}`, ok, required, detail: ok ? 'installed' : 'not installed', fix: `npm install ${m.sdk}` });
    }
  }
  return checks;
}

/**
 * `parallel-cc doctor`: every prerequisite with ✓/✗ and the fix. Exits non-zero only when a
 * required check fails (a missing docker daemon is fine when docker is not the provider you use).
 */
export async function doctorCommand(flags: DoctorFlags, ctx: Context): Promise<{ checks: Check[]; ok: boolean }> {
  const env = ctx.env;
  const checks: Check[] = [];
  const add = (c: Check): void => void checks.push(c);
  let provider: string = DEFAULT_PROVIDER;
  try {
    provider = loadConfig({ home: ctx.home, env }).config.defaultProvider;
    add({ name: 'config', ok: true, required: true, detail: `valid (default provider: ${provider})` });
  } catch (e) {
    add({ name: 'config', ok: false, required: true, detail: (e as Error).message, fix: 'Fix the file or variable named above (`parallel-cc config show`).' });
  }
  const major = Number(process.versions.node.split('.')[0]);
  add({ name: 'node', ok: major >= 20, required: true, detail: `v${process.versions.node}`, fix: 'Install Node.js 20 or newer.' });
  const gitV = await probe(['git', '--version'], env);
  add({ name: 'git', ok: gitV.ok, required: true, detail: gitV.out, fix: 'sudo apt-get install git' });
  checks.push(...(await providerDoctorChecks({ env, defaultProvider: provider, home: ctx.home })));
  // The configured agent, found the way a run finds it (config file, env, PATH).
  const agentConfig = (() => {
    try {
      return loadConfig({ home: ctx.home, env }).config;
    } catch {
      return undefined; // the config check above reports it
    }
  })();
  const agent = agentFor(agentConfig?.agentCli);
  // An agent without a model API (the command agent), or with a key of its own (codex, gemini), runs without these.
  const needsKey = agent.credential !== undefined && !agent.credential.resolve;
  const hasKey = Boolean(env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN || env.CLAUDE_CODE_OAUTH_TOKEN || (env.HOME && existsSync(`${env.HOME}/.claude/.credentials.json`)));
  add({
    name: 'anthropic credentials',
    ok: hasKey,
    required: needsKey,
    detail: hasKey ? 'present (a sandbox only ever gets a placeholder; each provider\'s key-protection line says how the real key is added on the way out)' : 'none',
    fix: 'export ANTHROPIC_API_KEY=… or log in with `claude`.',
  });
  if (hasKey) {
    // One authenticated call through a credential broker, as a sandbox's agent makes it: a wrong key
    // or an unreachable ANTHROPIC_BASE_URL shows here instead of as a stuck run.
    let upstream = 'https://api.anthropic.com';
    try {
      upstream = loadConfig({ home: ctx.home, env }).config.anthropicBaseUrl;
    } catch {
      // the config check above already reports it
    }
    const api = await resolveCredential(env, undefined, ctx.now()).then(
      (credential) => checkModelApi({ upstream, credential }),
      (e: unknown) => ({ ok: false, detail: (e as Error).message }),
    );
    add({ name: 'model API', ok: api.ok, required: needsKey, detail: api.detail, fix: 'Check ANTHROPIC_API_KEY (or your Claude login) and ANTHROPIC_BASE_URL; see https://status.anthropic.com for outages.' });
  }
  const dbPath = homePaths(ctx.home).db;
  if (existsSync(dbPath)) {
    try {
      const db = openDb(dbPath);
      const result = db.pragma('integrity_check', { simple: true }) as string;
      db.close();
      add({ name: 'registry', ok: result === 'ok', required: true, detail: `${dbPath}: ${result}`, fix: `Move ${dbPath} aside; parallel-cc creates a new one.` });
    } catch (e) {
      add({ name: 'registry', ok: false, required: true, detail: (e as Error).message, fix: `Move ${dbPath} aside; parallel-cc creates a new one.` });
    }
  } else add({ name: 'registry', ok: true, required: true, detail: `${dbPath} (created on first run)` });
  checks.push(...(await agentDoctorChecks(agentConfig, ctx, (argv) => probe(argv, env))));
  const shown = flags.sandbox ? checks : checks.filter((c) => !c.name.startsWith('sdk ') || c.required);
  return { checks: shown, ok: shown.every((c) => c.ok || !c.required) };
}
