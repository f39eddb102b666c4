import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentFor } from '../../src/agents/registry.js';
import { transcriptFromStep, transcriptStep } from '../../src/core/resume.js';
import type { SandboxHandle } from '../../src/providers/provider.js';
import { tempDir } from '../helpers/git-repo.js';

const ID = '0b7c1e2a-1111-4222-8333-944455556666';
const OTHER = '9f9f9f9f-1111-4222-8333-944455556666';

/** Runs the chained transcript step with the real sh against a home on this machine. */
function step(home: string): { exitCode: number; stdout: Buffer } {
  const sandbox = { id: 's', provider: 'native', workdir: '/workspace', homedir: home, endpoints: {} } as unknown as SandboxHandle;
  const s = transcriptStep(agentFor('claude'), sandbox);
  if (!s) throw new Error('claude can resume: it has a transcript step');
  const [cmd, ...args] = s.argv as [string, ...string[]];
  return { exitCode: 0, stdout: execFileSync(cmd, args) };
}

describe('the transcript read chained to the agent (sandbox resume)', () => {
  const dir = (home: string): string => {
    const d = join(home, '.claude', 'projects', '-workspace');
    mkdirSync(d, { recursive: true });
    return d;
  };

  it('reads the newest regular transcript of the run’s folder, whole, and gives it only for its own conversation', () => {
    const home = tempDir('pcc-tstep-');
    const d = dir(home);
    writeFileSync(join(d, `${OTHER}.jsonl`), '{"old":true}\n');
    utimesSync(join(d, `${OTHER}.jsonl`), new Date(1_000_000), new Date(1_000_000));
    writeFileSync(join(d, `${ID}.jsonl`), '{"type":"user"}\n{"type":"assistant"}\n');
    const r = step(home);
    expect(transcriptFromStep(r, ID)?.toString()).toBe('{"type":"user"}\n{"type":"assistant"}\n');
    // Another conversation is the newest: the caller reads its own file instead.
    expect(transcriptFromStep(r, OTHER)).toBeUndefined();
  });

  it('says there is none when the folder or a regular file is missing, and never follows a link', () => {
    const home = tempDir('pcc-tstep-');
    expect(transcriptFromStep(step(home), ID)).toBeNull();
    const d = dir(home);
    writeFileSync(join(home, 'secret'), 'host secret\n');
    symlinkSync(join(home, 'secret'), join(d, `${ID}.jsonl`));
    mkdirSync(join(d, `${OTHER}.jsonl`));
    expect(transcriptFromStep(step(home), ID)).toBeNull();
  });

  it('skips names it could not frame and trusts no output that is not exactly one framed file', () => {
    const home = tempDir('pcc-tstep-');
    const d = dir(home);
    writeFileSync(join(d, 'odd name\n.jsonl'), '{}\n');
    expect(transcriptFromStep(step(home), ID)).toBeNull();
    for (const bad of [`${ID}.jsonl 5\n1234`, `${ID}.jsonl 3\n123456`, `${ID}.jsonl\n{}`, `../${ID}.jsonl 2\n{}`]) expect(transcriptFromStep({ exitCode: 0, stdout: Buffer.from(bad) }, ID)).toBeUndefined();
    expect(transcriptFromStep({ exitCode: 1, stdout: Buffer.from(`${ID}.jsonl 2\n{}`) }, ID)).toBeUndefined();
    expect(transcriptFromStep(undefined, ID)).toBeUndefined();
  });
});
