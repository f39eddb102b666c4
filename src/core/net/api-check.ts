import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiBroker, type Credential } from './api-broker.js';

/** What one authenticated call to the model API said. */
export interface ApiCheck {
  ok: boolean;
  /** The HTTP status, absent when no answer came. */
  status?: number;
  detail: string;
}

/** The cheapest real request: one output token from the smallest model. */
const PROBE_BODY = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] });

/**
 * Makes one authenticated model API call the way a sandbox's agent does: through a credential
 * broker (started for this check on a private socket) that injects the real credential. Answers:
 * 2xx, or 400/404/429 (which come only after the key was accepted) → ok; 401/403 → the key is
 * refused; no answer → unreachable.
 */
export async function checkModelApi(opts: { upstream: string; credential: Credential; timeoutMs?: number }): Promise<ApiCheck> {
  const dir = await mkdtemp(join(tmpdir(), 'pcc-doctor-'));
  const placeholder = `sk-ant-pcc-${randomBytes(12).toString('hex')}`;
  const host = new URL(opts.upstream).host;
  try {
    const broker = await startApiBroker({ socketPath: join(dir, 'api.sock'), upstream: opts.upstream, placeholder, credential: opts.credential });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            socketPath: broker.socketPath,
            method: 'POST',
            path: '/v1/messages',
            headers: { 'x-api-key': placeholder, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'content-length': Buffer.byteLength(PROBE_BODY) },
            timeout: opts.timeoutMs ?? 15_000,
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += text.length < 4000 ? c : ''));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${(opts.timeoutMs ?? 15_000) / 1000}s`)));
        req.on('error', reject);
        req.end(PROBE_BODY);
      });
      const why = broker.unreachable();
      if (why) return { ok: false, detail: `unreachable (${why})` };
      const message = apiMessage(body);
      if (status >= 200 && status < 300) return { ok: true, status, detail: `${host} accepted the key` };
      if (status === 401 || status === 403) return { ok: false, status, detail: `${host} rejected the key (${status}${message ? `: ${message}` : ''})` };
      if (status === 400 || status === 404 || status === 429) return { ok: true, status, detail: `${host} accepted the key (it answered ${status}${message ? `: ${message}` : ''})` };
      return { ok: false, status, detail: `${host} answered ${status}${message ? `: ${message}` : ''}` };
    } finally {
      await broker.close();
    }
  } catch (e) {
    return { ok: false, detail: `unreachable (${host}: ${(e as Error).message})` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function apiMessage(body: string): string {
  try {
    const v = JSON.parse(body) as { error?: { message?: unknown } };
    return typeof v.error?.message === 'string' ? v.error.message.slice(0, 200) : '';
  } catch {
    return '';
  }
}
