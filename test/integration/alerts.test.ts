/**
 * Monitoring alerts from the sandbox's real stats: on docker, an agent that allocates past the
 * memory threshold (of the container's limit) fires one `alert` event, recorded on the row and
 * sent to the webhooks; a run-time threshold fires on any provider; nothing fires below them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const rows = async (env: NodeJS.ProcessEnv): Promise<Array<Record<string, unknown>>> =>
  (JSON.parse((await runCli(['status', '--all', '--json'], { env })).stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions);

function home(thresholds: Record<string, number>, webhook?: string): string {
  const h = tempDir();
  writeFiles(h, { 'sandbox.json': JSON.stringify({ alertThresholds: { intervalSeconds: 0.5, ...thresholds }, ...(webhook ? { webhooks: [{ url: webhook, events: ['alert'] }] } : {}) }) });
  return h;
}

describe('monitoring alerts', () => {
  it.skipIf(!dockerReady())('docker: allocating past memoryPercent of the limit fires one alert (stream, row, webhook)', async () => {
    const got: string[] = [];
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += d.toString()));
      req.on('end', () => (got.push(b), res.writeHead(200).end()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const env = { ...process.env, PARALLEL_CC_DOCKER_MEMORY_LIMIT: '512m', PARALLEL_CC_HOME: home({ memoryPercent: 30 }, `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`), NO_COLOR: '1' };
      // 300 MB held for 6 s in a 512 MB container: about 60% of the limit.
      const hog = `node -e "const b = Buffer.alloc(300 * 1024 * 1024, 1); setTimeout(() => console.log(b.length), 6000)"`;
      const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'p', '--provider', 'docker', '--agent-cli', 'command', '--agent-command', hog, '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      const alerts = parseNdjson(r.stdout).filter((e) => e.type === 'alert');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ metric: 'memory', threshold: 30 });
      expect(Number(alerts[0]?.value)).toBeGreaterThanOrEqual(30);
      expect(String(alerts[0]?.message)).toMatch(/^alert: memory at \d+% of the limit \(threshold 30%\)$/);
      const [row] = await rows(env);
      expect(JSON.parse(String(row?.alerts))).toEqual([expect.objectContaining({ metric: 'memory' })]);
      expect(got.map((b) => JSON.parse(b) as Record<string, unknown>)).toEqual([expect.objectContaining({ event: 'alert', metric: 'memory', sessionId: row?.id })]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('native: a run-time threshold fires once; thresholds that are not crossed stay quiet', async () => {
    const env = { ...process.env, PARALLEL_CC_HOME: home({ runMinutes: 0.02, memoryPercent: 99 }), NO_COLOR: '1' };
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'p', '--agent-cli', 'command', '--agent-command', 'sleep 3', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(parseNdjson(r.stdout).filter((e) => e.type === 'alert').map((e) => e.metric)).toEqual(['runtime']);
  });
});
