import type { Fleet } from './net/fleet.js';
import type { Agent } from '../agents/agent.js';
import type { Component } from './components/types.js';
import type { RunHooks } from './hooks.js';
import type { WebhookConfig } from './webhooks.js';
import type { SandboxProvider } from '../providers/provider.js';
import type { Config, ProviderName } from '../config/schema.js';
import type { SessionRepository } from '../store/sessions.js';
import type { Context } from './context.js';
import type { AuthMethod } from './credentials.js';
import type { StreamEvent } from './events.js';

/** Which saved workflow a session runs for, and for a retry the first attempt's session id. */
export interface WorkflowTag {
  name: string;
  attemptOf?: string;
}

/** A validated request for one sandboxed agent run. */
export interface RunRequest {
  repo: string;
  prompt: string;
  provider: ProviderName;
  base?: string;
  timeoutMinutes: number;
  allowDomains: string[];
  localLog?: string;
  /** Keep the sandbox after the run (--no-cleanup). */
  keepSandbox: boolean;
  /** Keep the sandbox when the run does not complete (`--keep-on-error`, a workflow's `cleanupOnError: false`). */
  keepSandboxOnError?: boolean;
  /** Stops this run only (a --multi task); defaults to the context's signal (Ctrl-C). */
  signal?: AbortSignal;
  /** api-key or oauth (the host's Claude login, used by the broker only); default: whichever exists. */
  authMethod?: AuthMethod;
  /** Stop the agent once its estimated cost passes this many USD (status over_budget). */
  budgetUsd?: number;
  /** --multi: the batch and the task within it, recorded on the registry row. */
  groupId?: string;
  taskId?: string;
  /** A saved workflow's run (`workflow run`), recorded on the registry row. */
  workflow?: WorkflowTag;
  /** Absolute folders never carried into the sandbox with the working state (--multi's output dir). */
  excludeDirs?: string[];
  /** Do not update an agent the sandbox brings with it (--skip-agent-update, alias --skip-claude-update). */
  skipAgentUpdate?: boolean;
  /** Resolved components (`--agent`, `--command`, …), installed into the sandbox only. */
  components?: readonly Component[];
  /** Lifecycle hooks, run inside the sandbox. */
  hooks?: RunHooks;
  /** Receivers of this session's lifecycle events. */
  webhooks?: readonly WebhookConfig[];
  /** The run's environment template (`--template`): its name (on the row) and the variables it sets in the sandbox. */
  template?: { name: string; env: Record<string, string> };
}

/** What the orchestrator needs from the outside. */
export interface RunDeps {
  ctx: Context;
  config: Config;
  sessions: SessionRepository;
  provider: SandboxProvider;
  /** The agent CLI the sandbox runs (agents/registry.ts). */
  agent: Agent;
  /** Receives every event (already stamped) for live rendering. */
  emit: (e: StreamEvent) => void;
  /** The model API fleet the session joins (a --multi batch shares one); default: one of its own. */
  fleet?: Fleet;
}
