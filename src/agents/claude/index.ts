import { randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import { anthropicHeaders } from '../../core/net/api-broker.js';
import type { Agent } from '../agent.js';
import { claudeLaunch, claudeUpdateArgv, claudeUpdateOutcome, findClaudeBinary, parseClaudeLine } from './claude.js';
import { claudeComponents } from './components.js';
import { assistantUsage } from './usage.js';

/**
 * Claude Code: the host's native binary mounted into local sandboxes (a cloud template brings its
 * own, updated with `claude update`), stream-json on stdout, the Anthropic API behind the broker.
 */
export const claudeAgent: Agent = {
  name: 'claude',
  label: 'claude',
  mountName: 'claude',
  installHint: 'npm install -g @anthropic-ai/claude-code, or set PARALLEL_CC_CLAUDE_BIN',
  versionArgs: ['--version'],
  locate: (opts) => ({ kind: 'binary', path: findClaudeBinary({ ...(opts.claudeBin ? { configured: opts.claudeBin } : {}), ...(opts.pathEnv ? { pathEnv: opts.pathEnv } : {}) }) }),
  launch: ({ credential, ...opts }) => {
    if (!credential) throw new AppError('internal', 'claude needs a model API credential to launch');
    return claudeLaunch({ ...opts, credential, ...(opts.args ? { extraArgs: opts.args } : {}) });
  },
  parser: () => parseClaudeLine,
  reportsResult: true,
  responseUsage: assistantUsage,
  update: { argv: claudeUpdateArgv, outcome: claudeUpdateOutcome, dropEnv: ['DISABLE_AUTOUPDATER'] },
  credential: {
    upstream: (config) => config.anthropicBaseUrl,
    placeholder: () => `sk-ant-pcc-${randomBytes(18).toString('hex')}`,
    headers: anthropicHeaders,
  },
  components: claudeComponents,
  templateCommand: 'claude',
  // Claude Code keeps each conversation as ~/.claude/projects/<cwd, every non-alphanumeric a dash>/<id>.jsonl.
  resume: { transcriptPath: (workdir, id) => `.claude/projects/${workdir.replace(/[^a-zA-Z0-9]/g, '-')}/${id}.jsonl`, args: (id) => ['--resume', id] },
};
