import { join } from 'node:path';
import type { Agent } from '../../agents/agent.js';
import { AGENT_NAMES, agentFor } from '../../agents/registry.js';
import type { Config } from '../../config/schema.js';
import { locateOptions } from '../../core/agent-select.js';
import type { Context } from '../../core/context.js';
import type { DoctorCheck } from '../../providers/module.js';

type Probe = (argv: string[]) => Promise<{ ok: boolean; out: string }>;

/** One agent found the way a run finds it (config file, env, PATH), with its version. */
async function agentCheck(agent: Agent, required: boolean, config: Partial<Config>, ctx: Pick<Context, 'env' | 'cwd'>, probe: Probe): Promise<DoctorCheck> {
  try {
    const install = agent.locate(locateOptions(config, ctx));
    const bin = install.kind === 'binary' ? install.path : install.kind === 'package' ? install.dir : install.command;
    // A package agent runs with node, as in the sandbox.
    const argv = install.kind === 'package' ? [process.execPath, join(install.dir, install.entry)] : [bin];
    const v = agent.versionArgs ? await probe([...argv, ...agent.versionArgs]) : { ok: true, out: install.kind === 'sandbox' ? "the sandbox's own" : 'found' };
    return { name: agent.name, ok: v.ok, required, detail: v.ok ? `${bin} (${v.out.split('\n')[0] ?? ''})` : `${bin}: ${v.out}`, fix: agent.installHint };
  } catch (e) {
    return { name: agent.name, ok: false, required, detail: (e as Error).message, fix: agent.installHint };
  }
}

/**
 * doctor's agent lines: every agent CLI parallel-cc can run, found or not, with its version (only
 * the configured one is required; the `command` agent only when configured, it has nothing to find
 * otherwise), and the configured agent's own model key when it is not Anthropic's.
 */
export async function agentDoctorChecks(config: Partial<Config> | undefined, ctx: Pick<Context, 'env' | 'cwd'>, probe: Probe): Promise<DoctorCheck[]> {
  const configured = agentFor(config?.agentCli);
  const checks: DoctorCheck[] = [];
  const keyEnv = configured.credential?.keyEnv;
  if (configured.credential?.resolve && keyEnv) {
    const present = keyEnv.find((k) => ctx.env[k]);
    checks.push({
      name: configured.credential.keyLabel ?? `${configured.name} credentials`,
      ok: present !== undefined,
      required: true,
      detail: present ? `${present} present (local sandboxes only ever get a placeholder)` : 'none',
      fix: `export ${keyEnv[0] ?? 'the key'}=…`,
    });
  }
  for (const name of AGENT_NAMES) {
    const agent = agentFor(name);
    if (!agent.versionArgs && agent !== configured) continue;
    checks.push(await agentCheck(agent, agent === configured, config ?? {}, ctx, probe));
  }
  return checks;
}
