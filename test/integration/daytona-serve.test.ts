/**
 * `test/fixtures/daytona/serve.ts`, the emulator as a process of its own: it prints the variables
 * the unmodified SDK reads, serves them, and destroys its sandboxes when told to stop.
 */
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { Daytona } from '@daytonaio/sdk';
import { describe, expect, it } from 'vitest';
import { useServeProcess } from '../helpers/serve-process.js';

const { tmp, start } = useServeProcess('daytona/serve.ts', 'daytona-serve-');

describe('daytona serve.ts', () => {
  it('prints DAYTONA_API_URL and DAYTONA_API_KEY, serves the unmodified SDK through them, and destroys its sandboxes on SIGTERM', async () => {
    const { DAYTONA_API_KEY: _key, DAYTONA_API_URL: _url, ...env } = process.env;
    const { proc, lines, vars } = await start(env, 2);
    expect(lines).toHaveLength(2);
    expect(vars.DAYTONA_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(vars.DAYTONA_API_KEY).toMatch(/^dtn_[0-9a-f]{64}$/);
    const daytona = new Daytona({ apiKey: vars.DAYTONA_API_KEY ?? '', apiUrl: vars.DAYTONA_API_URL ?? '', useDeprecatedPolling: true });
    const sbx = await daytona.create({ labels: { from: 'serve' } });
    expect((await sbx.process.executeCommand('echo served')).result).toBe('served\n');
    const boxes = readdirSync(tmp).filter((d) => d.startsWith('daytona-emu-'));
    expect(boxes).toHaveLength(1);
    proc.kill('SIGTERM');
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(readdirSync(tmp).filter((d) => d.startsWith('daytona-emu-'))).toEqual([]);
  });
});
