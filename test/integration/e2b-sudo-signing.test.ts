/**
 * The E2B emulator's `base` template sudo and envd's pre-signed `/files` URLs, against the
 * unmodified `e2b` SDK: the behaviour the SDK's own tests (envVars, signing) pin down. Written for
 * this project; nothing here is copied from E2B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from 'e2b';
import { startE2BEmulator, type E2BEmulator } from '../fixtures/e2b/index.js';
import { E2B_KEY } from '../helpers/e2b.js';

const ROOT = process.getuid?.() === 0;
let emu: E2BEmulator;
let sbx: Sandbox;
const run = async (cmd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> => sbx.commands.run(cmd).catch((e: unknown) => e as { exitCode: number; stdout: string; stderr: string });

beforeAll(async () => {
  emu = await startE2BEmulator({ apiKey: E2B_KEY });
  sbx = await Sandbox.create('base', { apiKey: E2B_KEY, apiUrl: emu.apiUrl, sandboxUrl: emu.sandboxUrl });
});
afterAll(async () => {
  await sbx?.kill().catch(() => false);
  await emu?.close();
});

describe('sudo in the base template', () => {
  it.runIf(ROOT)('runs as root (or -u user) with a reset environment, relays stdin and the exit code', async () => {
    expect((await run('sudo id -un')).stdout).toBe('root\n');
    expect((await run('sudo -u user id -un')).stdout).toBe('user\n');
    expect((await run('echo piped | sudo cat')).stdout).toBe('piped\n');
    // stdin at EOF before the command ends: the command still reports.
    expect(await run('sudo sh -c "sleep 0.3; exit 3" </dev/null')).toMatchObject({ exitCode: 3 });
    // env_reset: a command's envs do not reach the sudo'ed process, -E keeps them.
    expect((await sbx.commands.run('sudo sh -c \'echo "[$FOO]"\'', { envs: { FOO: 'bar' } })).stdout).toBe('[]\n');
    expect((await sbx.commands.run('sudo -E sh -c \'echo "[$FOO]"\'', { envs: { FOO: 'bar' } })).stdout).toBe('[bar]\n');
    expect((await run('sudo touch /root/made && stat -c %U /root/made')).stdout).toBe('root\n');
    const missing = await run('sudo no-such-command');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/command not found/);
  });
});

describe('pre-signed /files URLs of a secured sandbox', () => {
  it('download and upload with a valid signature, 401 for an expired or a forged one', async () => {
    await sbx.files.write('signed.txt', 'signed bytes');
    const down = await fetch(await sbx.downloadUrl('signed.txt', { useSignatureExpiration: 60 }));
    expect([down.status, await down.text()]).toEqual([200, 'signed bytes']);

    const expired = await fetch(await sbx.downloadUrl('signed.txt', { useSignatureExpiration: -60 }));
    expect([expired.status, await expired.json()]).toEqual([401, { code: 401, message: 'signature is already expired' }]);
    const forged = new URL(await sbx.downloadUrl('signed.txt', { useSignatureExpiration: -60 }));
    forged.searchParams.set('signature', 'v1_forged');
    // Signed by no sandbox: nothing names one, so it reaches no envd.
    expect((await fetch(forged)).status).toBe(401);
    // A read signature is no write signature (the operation is signed), and the path is signed too.
    const read = new URL(await sbx.downloadUrl('signed.txt'));
    expect((await fetch(read, { method: 'POST', body: 'x' })).status).toBe(401);
    read.searchParams.set('path', 'other.txt');
    expect((await fetch(read)).status).toBe(401);

    // A form value without a filename is the file when the query names the path, as envd.
    const form = new FormData();
    form.append('file', 'uploaded by url');
    const up = await fetch(await sbx.uploadUrl('up.txt', { useSignatureExpiration: 60 }), { method: 'POST', body: form });
    expect([up.status, await up.json()]).toEqual([200, [{ name: 'up.txt', path: '/home/user/up.txt', type: 'file' }]]);
    expect(await sbx.files.read('up.txt')).toBe('uploaded by url');
    expect(emu.uploads.at(-1)).toMatchObject({ sandboxId: sbx.sandboxId, path: 'up.txt' });
  });
});
