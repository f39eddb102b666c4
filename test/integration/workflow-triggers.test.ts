/**
 * Workflow triggers (#28): `workflow schedule` writes one crontab line that really runs the
 * workflow and `--remove` restores the crontab's bytes (a `crontab` stub on PATH), and `workflow
 * serve` starts a run only for a correctly signed, fresh, never-seen request.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signTrigger } from '../../src/core/workflows/serve.js';
import { runCli, startCli } from '../helpers/cli.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const CRONTAB_STUB = `#!/bin/sh
case "$1" in
  -l) [ -f "$CRONTAB_FILE" ] || { echo "no crontab for tester" >&2; exit 1; }; cat "$CRONTAB_FILE" ;;
  -) cat > "$CRONTAB_FILE" ;;
  -r) rm -f "$CRONTAB_FILE" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
`;

/** A home, a crontab stub on PATH, and a workflow `nightly` (the command agent writing out.txt). */
async function setup(): Promise<{ home: string; env: NodeJS.ProcessEnv; crontab: string; repo: string }> {
  const home = tempDir();
  const bin = tempDir('pcc-cron-bin-');
  writeFiles(bin, { crontab: CRONTAB_STUB, 'agent.sh': '#!/bin/sh\necho scheduled > out.txt\n' });
  chmodSync(join(bin, 'crontab'), 0o755);
  chmodSync(join(bin, 'agent.sh'), 0o755);
  const crontab = join(tempDir('pcc-cron-'), 'crontab');
  const env: NodeJS.ProcessEnv = { ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH ?? ''}`, CRONTAB_FILE: crontab };
  delete env.ANTHROPIC_API_KEY;
  const repo = makeRepo();
  const c = await runCli(['workflow', 'create', 'nightly', '--repo', repo, '--prompt', 'x', '--provider', 'native', '--agent-cli', 'command', '--agent-command', join(bin, 'agent.sh')], { env });
  expect(c.code, c.stderr).toBe(0);
  return { home, env, crontab, repo };
}

type Row = Record<string, unknown>;
const rows = async (env: NodeJS.ProcessEnv): Promise<Row[]> =>
  (JSON.parse((await runCli(['status', '--all', '--json'], { env })).stdout) as { repos: Array<{ sessions: Row[] }> }).repos.flatMap((x) => x.sessions);

describe('workflow schedule', () => {
  it('adds one crontab line that runs the workflow, and --remove restores the original bytes', async () => {
    const { env, crontab } = await setup();
    // No newline at the end and a byte that is not UTF-8: both must survive.
    const original = Buffer.concat([Buffer.from('MAILTO=me@example.com\n# keep '), Buffer.from([0xff]), Buffer.from(' me\n0 1 * * * echo hi')]);
    writeFileSync(crontab, original);
    const r = await runCli(['workflow', 'schedule', 'nightly', '--cron', '0 3 * * *'], { env });
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(crontab);
    expect(after.subarray(0, original.length).equals(original)).toBe(true);
    const added = after.subarray(original.length).toString('utf8');
    expect(added.startsWith('\n')).toBe(true);
    const lines = added.slice(1).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(/^0 3 \* \* \* cd .* workflow run nightly >> .*nightly\.cron\.log 2>&1 # parallel-cc workflow nightly$/);
    expect((await runCli(['workflow', 'schedule', 'nightly', '--cron', '@daily'], { env })).code).toBe(2);

    // What cron would run: the line's command through sh, in cron's bare environment.
    const command = (lines[0] ?? '').split(' ').slice(5).join(' ');
    execFileSync('sh', ['-c', command], { env: { HOME: String(env.HOME ?? '/tmp') } });
    expect((await rows(env)).filter((x) => x.workflow === 'nightly').map((x) => x.status)).toEqual(['completed']);

    const rm = await runCli(['workflow', 'schedule', 'nightly', '--remove'], { env });
    expect(rm.code, rm.stderr).toBe(0);
    expect(readFileSync(crontab).equals(original)).toBe(true);
  });

  it('leaves no crontab when there was none, and refuses a bad schedule or an unknown workflow without writing', async () => {
    const { env, crontab } = await setup();
    expect((await runCli(['workflow', 'schedule', 'nightly', '--cron', '@hourly'], { env })).code).toBe(0);
    expect(readFileSync(crontab, 'utf8').split('\n')).toHaveLength(2);
    expect((await runCli(['workflow', 'schedule', 'nightly', '--remove'], { env })).code).toBe(0);
    expect(existsSync(crontab)).toBe(false);
    const bad = await runCli(['workflow', 'schedule', 'nightly', '--cron', '0 3 * * *; rm -rf ~'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a cron schedule/);
    expect((await runCli(['workflow', 'schedule', 'nope', '--cron', '0 3 * * *'], { env })).code).toBe(6);
    expect(existsSync(crontab)).toBe(false);
  });
});

/** Starts `workflow serve --port 0` and waits for its port. */
async function serve(env: NodeJS.ProcessEnv): Promise<ReturnType<typeof startCli> & { port: number }> {
  const started = startCli(['workflow', 'serve', '--port', '0', '--json'], { env });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    started.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    started.child.on('close', () => reject(new Error('serve ended before listening')));
  });
  return { ...started, port };
}

describe('workflow serve', () => {
  it('starts a run for a signed request (202 + id); wrong, missing, stale and replayed signatures get 401 and start nothing', async () => {
    const { env } = await setup();
    const secret = (JSON.parse((await runCli(['workflow', 'show', 'nightly', '--secret', '--json'], { env })).stdout) as { secret: string }).secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    let replayOf: Record<string, string> | undefined;
    let replayBody = '';
    let server = await serve(env);
    const { child, done } = server;
    try {
      const body = JSON.stringify({ event_type: 'nightly', client_payload: { why: 'test' } });
      const post = async (name: string, headers: Record<string, string>): Promise<{ status: number; json: Row }> => {
        const res = await fetch(`http://127.0.0.1:${server.port}/workflows/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
        return { status: res.status, json: (await res.json()) as Row };
      };
      const now = String(Math.floor(Date.now() / 1000));
      const signed = (delivery: string, ts = now, key = secret): Record<string, string> => ({ 'x-parallel-cc-timestamp': ts, 'x-parallel-cc-delivery': delivery, 'x-parallel-cc-signature-256': signTrigger(key, ts, delivery, body) });

      expect((await post('nightly', { 'x-parallel-cc-timestamp': now, 'x-parallel-cc-delivery': 'd0' })).status).toBe(401);
      expect((await post('nightly', signed('d1', now, 'not the secret'))).status).toBe(401);
      expect((await post('nightly', signed('d2', String(Number(now) - 3600)))).status).toBe(401);
      expect((await post('unknown', signed('d3'))).status).toBe(401);
      replayOf = { 'content-type': 'application/json', ...signed('d4') };
      replayBody = body;
      const good = await post('nightly', signed('d4'));
      expect(good.status).toBe(202);
      const ids = good.json.sessionIds as string[];
      expect(ids).toHaveLength(1);
      expect((await post('nightly', signed('d4'))).status).toBe(401);

      const deadline = Date.now() + 60_000;
      let mine: Row[] = [];
      while (Date.now() < deadline) {
        mine = (await rows(env)).filter((x) => x.workflow === 'nightly');
        if (mine.length && mine.every((x) => x.status === 'completed')) break;
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(mine.map((x) => [x.id, x.status])).toEqual([[ids[0], 'completed']]);
    } finally {
      child.kill('SIGTERM');
    }
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/refused: nightly: wrong signature/);
    expect(r.stderr).toMatch(/refused: nightly: delivery d4 was already taken/);

    // A restarted server still knows the delivery: the replay is refused, nothing more runs.
    server = await serve(env);
    try {
      expect(replayOf).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${server.port}/workflows/nightly`, { method: 'POST', headers: replayOf ?? {}, body: replayBody });
      expect(res.status).toBe(401);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect((await server.done).code).toBe(0);
    expect((await rows(env)).filter((x) => x.workflow === 'nightly')).toHaveLength(1);
  });
});
