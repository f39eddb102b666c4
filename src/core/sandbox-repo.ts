import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';
import { AppError } from '../errors.js';
import { execCollect, type SandboxHandle, type SandboxProvider } from '../providers/provider.js';
import { hostGitEnv, SEALED_GIT_ENV } from './sync/git-tree.js';

/** Message of the commit that captures what the agent left uncommitted. */
export const UNCOMMITTED_MESSAGE = 'parallel-cc: uncommitted work';

// Overrides on every git command we run in a sandbox: its repo is agent-controlled, so nothing in it
// may change what git prints (prefixes, signatures, encodings) or run anything (hooks, fsmonitor,
// external diff, textconv) — nor start background work after a commit (auto gc/maintenance).
const PLUMBING = '-c core.hooksPath=/dev/null -c core.fsmonitor=false -c diff.noprefix=false -c diff.external= -c diff.mnemonicPrefix=false -c commit.gpgsign=false -c core.quotePath=true -c gc.auto=0 -c maintenance.auto=false';

/**
 * The only config the collection's git sees (besides {@link PLUMBING}): it runs with a git dir of
 * ours, so the agent's `.git/config` (format.headers, core.fsmonitor, include.path, …) is never read.
 */
const SEALED_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfilemode = true\n\tsymlinks = true\n';

// Fixed scripts: everything variable is a positional argument, never spliced into the script.
// With a history bundle ($5, --upload-repo) the start commit is the base itself ($6) when the
// upload is exactly its tree, else a commit of the upload on top of it: either way the start
// commit's tree is exactly what was uploaded, so collecting and importing are unchanged.
const INIT_SCRIPT = `set -eu
g() { git ${PLUMBING} "$@"; }
g init --quiet --initial-branch="$1"
g config user.name "$2"
g config user.email "$3"
if [ -n "$5" ]; then
  g bundle unbundle "$5" > /dev/null
  rm -f -- "$5"
  g add --all
  tree=$(g write-tree)
  if [ "$tree" = "$(g rev-parse "$6^{tree}")" ]; then start=$6; else start=$(g commit-tree "$tree" -p "$6" -m "$4"); fi
  g update-ref "refs/heads/$1" "$start"
  echo "$start"
  exit 0
fi
g add --all
g commit --quiet --no-verify --allow-empty -m "$4"
g rev-parse HEAD`;

/**
 * $1 workspace, $2 our git dir (recreated), $3 start commit, $4/$5 identity, $6 message of the
 * uncommitted-work commit. The agent's HEAD, index and refs are never written: its objects are
 * read and added to through GIT_OBJECT_DIRECTORY, the index is ours. Output: the series of
 * `sync/series.ts` — the commit objects of the first-parent chain since the start, each commit's
 * changes against the one before it on that chain (the start for the first, whatever the commit's
 * own parents) and the blobs those changes name — in a fixed number of processes whatever the
 * number of commits, each section framed by git itself and all three by their byte counts. Nothing
 * when there is no commit. The host rebuilds the trees from the changes, so none of the sandbox's
 * tree or commit objects is ever kept.
 */
const COLLECT_SCRIPT = `set -eu
cd "$1"
head=$(GIT_DIR="$1/.git" git ${PLUMBING} rev-parse --verify --quiet 'HEAD^{commit}')
rm -rf "$2"
mkdir -p "$2/refs"
printf '${SEALED_CONFIG.replace(/\t/g, '\\t').replace(/\n/g, '\\n')}' > "$2/config"
echo "$head" > "$2/HEAD"
export GIT_DIR="$2" GIT_WORK_TREE="$1" GIT_OBJECT_DIRECTORY="$1/.git/objects" GIT_INDEX_FILE="$2/index"
export GIT_AUTHOR_NAME="$4" GIT_AUTHOR_EMAIL="$5" GIT_COMMITTER_NAME="$4" GIT_COMMITTER_EMAIL="$5"
g() { git ${PLUMBING} "$@"; }
tip=$head
# A HEAD whose tree git cannot check out (forged entries) still travels, as changes, to be refused.
if g read-tree "$head"; then
  g add --all
  tree=$(g write-tree)
  if [ "$tree" != "$(g rev-parse "$head^{tree}")" ]; then tip=$(g commit-tree "$tree" -p "$head" -m "$6"); fi
fi
g rev-list --reverse --first-parent "$3..$tip" > "$2/list"
if [ -s "$2/list" ]; then
  g cat-file --batch < "$2/list" > "$2/commits"
  p=$3
  while read -r c; do printf '%s %s\\n' "$c" "$p"; p=$c; done < "$2/list" > "$2/pairs"
  g diff-tree --stdin -r --raw --no-renames < "$2/pairs" > "$2/changes"
  # The new side's blobs (not deletions, not gitlinks; a commit's header line has no fourth field).
  while read -r _ m _ o _; do [ -z "$o" ] || [ "$m" = 000000 ] || [ "$m" = 160000 ] || echo "$o"; done < "$2/changes" | sort -u | g cat-file --batch > "$2/blobs"
  { read -r a _; read -r b _; read -r e _; } <<SIZES
$(wc -c "$2/commits" "$2/changes" "$2/blobs")
SIZES
  printf 'pcc-series 2 %s %s %s\\n' "$a" "$b" "$e"
  cat "$2/commits" "$2/changes" "$2/blobs"
fi
rm -rf "$2"`;

/** A fixed script as a sandbox command: its variables positional, git's environment sealed. */
const scriptRequest = (body: string, args: string[]): { argv: string[]; env: Record<string, string> } => ({ argv: ['sh', '-c', body, 'sh', ...args], env: { ...SEALED_GIT_ENV } });

async function script(provider: SandboxProvider, sandbox: SandboxHandle, what: string, req: { argv: string[]; env: Record<string, string> }): Promise<Buffer> {
  const r = await execCollect(provider, sandbox, req);
  if (r.exitCode !== 0) {
    throw new AppError('agent', `${what} failed in the sandbox (exit ${String(r.exitCode ?? r.signal)}): ${r.stderr.trim().slice(-2000)}`);
  }
  return r.stdout;
}

/**
 * The branch of the sandbox's own repo: fixed, never the session's `parallel-cc/<id>` — the agent
 * sees it (claude even sends it to the model in its git status), and the session id names the
 * session's folders on the host.
 */
export const SANDBOX_BRANCH = 'parallel-cc/work';

/**
 * Turns the uploaded files into a fresh git repository inside the sandbox: its own history (one
 * commit of exactly what was uploaded), never a view of the host's .git — or, with `history`
 * (`--upload-repo`: a bundle uploaded into the workdir), the base's history with the start commit
 * on it (the base itself when the upload is its exact tree). Returns the start commit,
 * recorded on the host so the agent cannot move it. One sandbox round trip, or none when
 * `onlyUploaded` and the provider's workdir is a host folder.
 */
export async function initSandboxRepo(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  opts: { identity: { name: string; email: string }; baseLabel: string; history?: { bundle: string; base: string }; onlyUploaded?: boolean },
): Promise<string> {
  const history = opts.history ? [opts.history.bundle, opts.history.base] : ['', ''];
  const args = [SANDBOX_BRANCH, opts.identity.name, opts.identity.email, `parallel-cc: start from ${opts.baseLabel}`, ...history];
  // The host may make it in a local sandbox's folder only while that holds just our upload (no
  // setup command ran in the sandbox, no bundle) and no .git: then nothing in it is agent-made.
  const host = opts.onlyUploaded && !opts.history ? provider.hostWorkdir?.(sandbox) : undefined;
  if (host !== undefined && !(await lstat(join(host, '.git')).then(() => true, () => false))) {
    const r = await run(['sh', '-c', INIT_SCRIPT, 'sh', ...args], { cwd: host, env: hostGitEnv(), errorKind: 'agent' });
    return r.stdout.toString('utf8').trim();
  }
  const out = await script(provider, sandbox, 'git init', scriptRequest(INIT_SCRIPT, args));
  return out.toString('utf8').trim();
}

/**
 * Collects the agent's work as a series: every commit since `startCommit` plus, when the agent
 * left work uncommitted, one more commit of it — built in a private index and git dir of ours, so the
 * agent's repository is not changed and its config is never read (safe while the agent still runs:
 * live `download` uses this too). The host never trusts the text: it applies the series in a
 * quarantine and judges the resulting trees (`sync/apply-series.ts`). One sandbox round trip.
 */
export async function collectSandboxResults(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  opts: { startCommit: string; identity: { name: string; email: string } },
): Promise<Buffer> {
  return script(provider, sandbox, 'collecting the results', collectRequest(sandbox, opts));
}

/**
 * The command {@link collectSandboxResults} runs, for a provider that can chain it to the agent's
 * own (`ExecRequest.then`): its output is the same series.
 */
export function collectRequest(sandbox: SandboxHandle, opts: { startCommit: string; identity: { name: string; email: string } }): { argv: string[]; env: Record<string, string> } {
  const gitDir = `${sandbox.workdir}/.git/parallel-cc-collect-${randomBytes(6).toString('hex')}`;
  return scriptRequest(COLLECT_SCRIPT, [sandbox.workdir, gitDir, opts.startCommit, opts.identity.name, opts.identity.email, UNCOMMITTED_MESSAGE]);
}
