import type { ContinueRun } from './resume.js';
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
import type { PrivateDeps } from './private-deps.js';

/** Which saved workflow a session runs for, and for a retry the first attempt's session id. */
export interface WorkflowTag {
  name: string;
  attemptOf?: string;
}

/** Per-session options that also apply to each task of a `--multi` batch (#27). */
export interface SessionOptions {
  /** The agent's working folder inside the sandbox (`--working-dir`; providers with `workdirChoice`). */
  workdir?: string;
  /** The identity of the agent's commits (`--git-user`/`--git-email`); default the host's. */
  gitIdentity?: { name: string; email: string };
  /** Also upload the base's history as a git bundle (`--upload-repo`). */
  uploadRepo?: boolean;
}

/** An existing session worktree a run continues (`--worktree`, core/run-options/worktree.ts). */
export interface ReusedWorktree {
  path: string;
  branch: string;
  /** Its branch tip when the run was requested. */
  head: string;
  /** It has uncommitted changes (only with `--include-dirty`): committed once before the sandbox starts. */
  dirty: boolean;
  /** `--include-dirty` was given: changes made after the check are carried into the run too. */
  includeDirty: boolean;
}

/** A validated request for one sandboxed agent run. */
export interface RunRequest extends SessionOptions {
  /** The session branch instead of `parallel-cc/<id>` (`--branch`; checked not to exist). */
  branch?: string;
  /** Continue this session worktree and its branch instead of creating one (`--worktree`). */
  worktree?: ReusedWorktree;
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
  /** `sandbox resume`: continue this session's branch and worktree with its conversation restored (core/resume.ts). */
  continue?: ContinueRun;
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
  /** Private dependency credentials (`--npm-token`, `--github-token`, `--ssh-key`), kept on the host. */
  privateDeps?: PrivateDeps;
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
