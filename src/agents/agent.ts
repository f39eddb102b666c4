import type { AgentEvent, TokenUsage } from '../core/events.js';
import type { Component } from '../core/components/types.js';
import type { Credential } from '../core/net/api-broker.js';

/** How an agent is started inside a sandbox. */
export interface AgentLaunch {
  argv: string[];
  env: Record<string, string>;
  stdin: string;
  /**
   * Files the agent needs before it starts (its own settings), relative to the sandbox home; core
   * writes them inside the sandbox (never through a shell). Absent: none.
   */
  files?: Array<{ path: string; content: string }>;
}

/**
 * Where an agent comes from:
 * - `binary`: one self-contained host file, mounted read-only into a local sandbox as `/opt/bin/<mountName>`;
 * - `package`: a node package folder on the host, mounted read-only into a local sandbox as
 *   `/opt/parallel-cc/pkg/<mountName>` and run as `<the sandbox's node> <entry>` (providers with `packageAgents`);
 * - `sandbox`: a command the sandbox already has (a system program under /usr, or a cloud template's own).
 */
export type AgentInstall = ({ kind: 'binary'; path: string } | { kind: 'package'; dir: string; entry: string } | { kind: 'sandbox'; command: string }) & {
  /** Arguments the user gave after the program (the `command` agent). */
  args?: string[];
};

/** What {@link Agent.locate} may read: the configured agent keys and the host's PATH. */
export interface AgentLocateOptions {
  /** config `claudeBin` (PARALLEL_CC_CLAUDE_BIN). */
  claudeBin?: string;
  /** config `agentCommand` (--agent-command, PARALLEL_CC_AGENT_COMMAND). */
  agentCommand?: string;
  /** config `codexBin` (PARALLEL_CC_CODEX_BIN). */
  codexBin?: string;
  /** config `geminiDir` (PARALLEL_CC_GEMINI_DIR): the @google/gemini-cli package folder. */
  geminiDir?: string;
  pathEnv?: string;
  /** Relative program paths of `agentCommand` resolve against this folder. */
  cwd: string;
}

/** What {@link Agent.launch} gets from the run. */
export interface AgentLaunchOptions {
  /** The program as the sandbox sees it (mounted binary, the template's own, or a system command). */
  agentPath: string;
  /** {@link AgentInstall.args}. */
  args?: string[];
  prompt: string;
  /** The key the agent presents: a broker placeholder (local sandboxes) or what the provider says (cloud); absent for agents without {@link Agent.credential}. */
  credential?: Credential;
  /** The model API as the sandbox reaches it (the broker's loopback port, or the real URL). */
  apiUrl?: string;
  /** The egress proxy as the sandbox reaches it. */
  proxyUrl?: string;
  /** The model the agent asks for ({@link Agent.model}); absent: the agent's default. */
  model?: string;
}

/** The model API base URLs of the configuration, one per API family (each agent's broker upstream). */
export interface ModelApiUrls {
  anthropicBaseUrl: string;
  openaiBaseUrl: string;
  geminiBaseUrl: string;
}

/** The usage of one model response, for a running budget estimate (Claude prints its cost only at the end). */
export interface ResponseUsage {
  messageId: string;
  model?: string;
  usage: TokenUsage;
}

/**
 * What the credential broker needs for an agent that talks to a model API: where to forward
 * (`upstream`), the placeholder the agent presents instead of the real key, and the header that
 * carries the real one on the way out.
 */
export interface AgentCredentialNeeds {
  upstream(config: ModelApiUrls): string;
  /** A fresh per-session placeholder key in the agent's own key format. */
  placeholder(): string;
  /** The header(s) carrying `credential` to the upstream (the broker sets exactly these). */
  headers(credential: Credential): Record<string, string>;
  /**
   * The host's real key for this agent's API, read from the environment; a missing one is an
   * `environment` error saying which variable to set. Absent: the Anthropic credential (API key or
   * Claude login, `--auth-method`).
   */
  resolve?(env: NodeJS.ProcessEnv): Credential;
  /** How doctor names the key ("openai credentials") and the variables that hold it. */
  readonly keyLabel?: string;
  readonly keyEnv?: readonly string[];
  /** The variable of its API's base URL (hints). */
  readonly urlEnv?: string;
}

/** What installing components (`--agent`, `--command`, `--mcp`, `--setting`, `--hook`) means for one run of an agent. */
export interface ComponentInstall {
  /** Files to write in the sandbox (absolute paths there; under the agent's home, never the workspace). */
  files: Array<{ path: string; content: string }>;
  /** Extra launch arguments (e.g. the main agent, the MCP config). */
  args: string[];
  /** The prompt as the agent gets it (e.g. with a slash command in front). */
  prompt: string;
}

/** Updating an agent that a sandbox brings with it (a cloud template's install). */
export interface AgentUpdate {
  argv(agentPath: string): string[];
  /** Reads the update's result; `ok: false` is a warning, the installed version runs. */
  outcome(exitCode: number | null, output: string): { ok: boolean; detail: string };
  /** Variables of the launch env the update must not see (e.g. the one disabling auto-update). */
  dropEnv?: readonly string[];
}

/**
 * The agent port: everything core needs to know about one coding agent CLI. Core never names an
 * agent; it asks `agents/registry.ts` for one by name and uses only this interface.
 */
export interface Agent {
  /** Registry name (`--agent-cli`, config `agentCli`, the registry's `agent` column). */
  readonly name: string;
  /** How messages name it ("running claude"). */
  readonly label: string;
  /** Name under which a `binary` install is mounted (`/opt/bin/<mountName>`). */
  readonly mountName: string;
  /** How to install or configure it (doctor's fix line). */
  readonly installHint: string;
  /** Arguments that print its version (doctor); absent: not probed. */
  readonly versionArgs?: readonly string[];
  /** Finds the agent on the host. A missing one is an `environment` error (exit 3) whose hint says how to install it. */
  locate(opts: AgentLocateOptions): AgentInstall;
  /** Argv, env and stdin of the run. */
  launch(opts: AgentLaunchOptions): AgentLaunch;
  /** A fresh stdout-line parser for one run (may keep state between lines); `model`: what the run asked for (pricing). */
  parser(opts?: { model?: string }): (line: string) => AgentEvent[];
  /** Events of one stderr line; default: one `stderr` event. */
  stderrLine?(text: string): AgentEvent[];
  /**
   * True when the agent ends with a `result` event: a run is completed only with one that is not an
   * error. False: the exit code alone decides (0 = completed).
   */
  readonly reportsResult: boolean;
  /** Usage of a model response from a stdout line (running budget check); absent: no estimate. */
  responseUsage?(line: string): ResponseUsage | undefined;
  /** How to update it where the sandbox brings its own; absent: never updated. */
  readonly update?: AgentUpdate;
  /** The configured model of this agent (config `codexModel`, …); absent: never configured. */
  model?(config: { codexModel?: string | undefined; geminiModel?: string | undefined }): string | undefined;
  /** Model API credential handling; absent: the agent needs no model credential (nothing is resolved or brokered). */
  readonly credential?: AgentCredentialNeeds;
  /** How it takes Claude Code components; absent: a run with components is refused before anything starts. */
  components?(set: readonly Component[], homedir: string, prompt: string): ComponentInstall;
  /** The command a cloud template's own install answers to; absent: the agent cannot run where the sandbox brings its own. */
  readonly templateCommand?: string;
  /** How its own conversation is kept and restored (`sandbox resume`, core/resume.ts); absent: resume is refused. */
  readonly resume?: AgentResume;
}

/** An agent whose conversation can be continued in a new sandbox. */
export interface AgentResume {
  /** Where the agent keeps the transcript of conversation `id`, relative to the sandbox user's home, for a run in `workdir`. */
  transcriptPath(workdir: string, id: string): string;
  /** Launch arguments that continue conversation `id`. */
  args(id: string): string[];
}
