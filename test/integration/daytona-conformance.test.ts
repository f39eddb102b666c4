/**
 * The Daytona emulator's wire behaviour, driven by the unmodified `@daytonaio/sdk` (no CLI): every
 * JSON answer of the main API and the toolbox is validated against Daytona's published schemas
 * (test/fixtures/daytona/spec/, see the README there for their source), and the strict parts —
 * 401, 404, states, session semantics, log prefixes over the WebSocket — are pinned.
 */
import { Readable } from 'node:stream';
import { Daytona, type Sandbox } from '@daytonaio/sdk';
import { Ajv } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import api from '../fixtures/daytona/spec/api.json' with { type: 'json' };
import toolboxSpec from '../fixtures/daytona/spec/toolbox.json' with { type: 'json' };
import { startDaytonaEmulator, type DaytonaEmulator } from '../fixtures/daytona/index.js';

const KEY = `dtn_${'c'.repeat(64)}`;
type Operation = { responses?: Record<string, { schema?: unknown; content?: Record<string, { schema?: unknown }> }> };
type Spec = { paths: Record<string, Record<string, Operation>> };

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(api, 'api');
ajv.addSchema(toolboxSpec, 'toolbox');

/** The spec's template for a concrete path: the match with the fewest parameters. */
function template(spec: Spec, path: string): string | undefined {
  const hits = Object.keys(spec.paths).filter((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
  return hits.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

/** Validates one recorded answer against its documented schema; returns what was checked. */
function check(r: DaytonaEmulator['responses'][number]): string | undefined {
  const spec = (r.api === 'api' ? api : toolboxSpec) as unknown as Spec;
  const t = template(spec, r.path);
  const op = t ? spec.paths[t]?.[r.method.toLowerCase()] : undefined;
  const doc = op?.responses?.[String(r.status)];
  if (!t || !op) throw new Error(`${r.api} ${r.method} ${r.path}: not in the published spec`);
  const schema = r.api === 'api' ? doc?.content?.['application/json']?.schema : doc?.schema;
  if (!schema || r.body === undefined) return undefined;
  const ref = (schema as { $ref?: string }).$ref;
  const validate = ajv.compile(ref ? { $ref: `${r.api}${ref}` } : schema);
  if (!validate(r.body)) throw new Error(`${r.api} ${r.method} ${r.path} ${r.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(r.body)}`);
  return `${r.api} ${r.method} ${t} ${r.status}`;
}

describe('the Daytona emulator against the unmodified SDK and the published schemas', () => {
  let emu: DaytonaEmulator;
  let daytona: Daytona;
  let sbx: Sandbox | undefined;
  beforeAll(async () => {
    emu = await startDaytonaEmulator({ apiKey: KEY });
    daytona = new Daytona({ apiKey: KEY, apiUrl: emu.apiUrl, useDeprecatedPolling: true, target: 'eu' });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('creates, lists, labels, sets intervals, stops, starts and deletes a sandbox; every answer conforms', async () => {
    sbx = await daytona.create({ labels: { team: 'conformance' }, envVars: { GREETING: 'hi' }, autoStopInterval: 30, autoDeleteInterval: 60 });
    expect(sbx.state).toBe('started');
    // created while it started: the SDK polled (DAYTONA_USE_DEPRECATED_POLLING) until `started`.
    expect(emu.responses.some((r) => r.method === 'POST' && r.path === '/sandbox' && (r.body as { state?: string }).state === 'starting')).toBe(true);
    expect(sbx).toMatchObject({ target: 'eu', autoStopInterval: 30, autoDeleteInterval: 60, env: { GREETING: 'hi' } });
    const listed: string[] = [];
    for await (const s of daytona.list({ labels: { team: 'conformance' } })) listed.push(s.id);
    expect(listed).toEqual([sbx.id]);
    for await (const s of daytona.list({ labels: { team: 'nobody' } })) listed.push(s.id);
    expect(listed).toEqual([sbx.id]);
    await sbx.setLabels({ team: 'conformance', extra: 'x' });
    await sbx.setAutostopInterval(5);
    await sbx.setAutoArchiveInterval(60);
    await sbx.setAutoDeleteInterval(120);
    await sbx.refreshActivity();
    await sbx.refreshData();
    expect(sbx).toMatchObject({ autoStopInterval: 5, autoArchiveInterval: 60, autoDeleteInterval: 120, labels: { extra: 'x' } });
    expect((await sbx.process.executeCommand('echo "$GREETING from $(id -u)"')).result).toBe('hi from 1000\n');
    await sbx.stop();
    expect(sbx.state).toBe('stopped');
    // A stopped sandbox's toolbox does not answer; its files survive a start.
    await expect(sbx.process.executeCommand('true')).rejects.toThrow();
    await sbx.start();
    expect(sbx.state).toBe('started');
    expect((await sbx.process.executeCommand('echo again')).exitCode).toBe(0);
  });

  it('runs sessions as Daytona does: runAsync, status, labelled logs followed over a WebSocket, input with and without echo', async () => {
    if (!sbx) throw new Error('no sandbox');
    await sbx.process.createSession('conf');
    await expect(sbx.process.createSession('conf')).rejects.toThrow();
    const cmd = await sbx.process.executeSessionCommand('conf', { command: `bash -c 'read -r a; read -r b; echo "[$a][$b]"; echo oops >&2; exit 7'`, runAsync: true, suppressInputEcho: true });
    expect(cmd.cmdId).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(async () => {
      try {
        await sbx?.process.sendSessionCommandInput('conf', cmd.cmdId, 'secret-one');
        return true;
      } catch {
        return false;
      }
    }).toBe(true);
    await sbx.process.sendSessionCommandInput('conf', cmd.cmdId, 'two');
    let out = '';
    let err = '';
    await sbx.process.getSessionCommandLogs('conf', cmd.cmdId, (o) => (out += o), (e) => (err += e));
    expect([out, err]).toEqual(['[secret-one][two]\n', 'oops\n']);
    expect((await sbx.process.getSessionCommand('conf', cmd.cmdId)).exitCode).toBe(7);
    const logs = await sbx.process.getSessionCommandLogs('conf', cmd.cmdId);
    expect(logs).toMatchObject({ stdout: '[secret-one][two]\n', stderr: 'oops\n' });
    // Ended commands take no input; with echo on, input shows up in the log as stdout.
    await expect(sbx.process.sendSessionCommandInput('conf', cmd.cmdId, 'late')).rejects.toThrow();
    const echoed = await sbx.process.executeSessionCommand('conf', { command: 'read -r x; echo "got $x"', runAsync: true });
    await expect.poll(() => sbx?.process.sendSessionCommandInput('conf', echoed.cmdId, 'visible').then(() => true, () => false)).toBe(true);
    await expect.poll(async () => (await sbx?.process.getSessionCommand('conf', echoed.cmdId))?.exitCode).toBe(0);
    expect(String((await sbx.process.getSessionCommandLogs('conf', echoed.cmdId)).stdout).split('\n').sort()).toEqual(['', 'got visible', 'visible']);
    // Sync exec answers with the output; a session's commands run one after the other.
    const sync = await sbx.process.executeSessionCommand('conf', { command: 'echo sync' });
    expect(sync).toMatchObject({ exitCode: 0, stdout: 'sync\n' });
    expect((await sbx.process.getSession('conf')).commands.map((c) => c.exitCode)).toEqual([7, 0, 0]);
    await sbx.process.deleteSession('conf');
    await expect(sbx.process.getSession('conf')).rejects.toThrow(/session not found/);
  });

  it('uploads streamed and bulk, downloads bytes exactly, reports missing files', async () => {
    if (!sbx) throw new Error('no sandbox');
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0]);
    await sbx.fs.uploadFileStream(Readable.from([bytes]), '/home/user/bin/stream.bin');
    await sbx.fs.uploadFiles([{ source: Buffer.from('a\n'), destination: '/home/user/a.txt' }, { source: Buffer.from('b\n'), destination: '/home/user/sub/b.txt' }]);
    expect(await sbx.fs.downloadFile('/home/user/bin/stream.bin')).toEqual(bytes);
    const many = await sbx.fs.downloadFiles([{ source: '/home/user/a.txt' }, { source: '/home/user/sub/b.txt' }, { source: '/home/user/missing' }]);
    expect(many.map((f) => (f.result as Buffer | undefined)?.toString())).toEqual(['a\n', 'b\n', undefined]);
    expect(many[2]?.error).toMatch(/not found/);
    expect(await sbx.getUserHomeDir()).toBe('/home/user');
    expect(emu.records.uploads.map((u) => u.path)).toEqual(expect.arrayContaining(['/home/user/bin/stream.bin', '/home/user/a.txt', '/home/user/sub/b.txt']));
  });

  it('is strict: a wrong key is 401, an unknown id 404, a deleted sandbox is gone', async () => {
    await expect(new Daytona({ apiKey: `dtn_${'w'.repeat(64)}`, apiUrl: emu.apiUrl, useDeprecatedPolling: true }).get(sbx?.id ?? '')).rejects.toMatchObject({ name: 'DaytonaAuthenticationError', statusCode: 401 });
    await expect(daytona.get('no-such-sandbox')).rejects.toMatchObject({ name: 'DaytonaNotFoundError', statusCode: 404 });
    await expect(daytona.create({ snapshot: 'no/such:snapshot' })).rejects.toMatchObject({ statusCode: 404 });
    await sbx?.delete();
    await expect(daytona.get(sbx?.id ?? '')).rejects.toMatchObject({ statusCode: 404 });
    expect(emu.sandboxes().find((s) => s.id === sbx?.id)?.state).toBe('destroyed');
  });

  it('every JSON answer so far matches its published schema', () => {
    const checked = new Set(emu.responses.filter((r) => r.status < 400).map(check).filter((c): c is string => c !== undefined));
    // The operations the provider relies on were all among them.
    for (const op of ['api POST /sandbox 200', 'api GET /sandbox 200', 'api GET /sandbox/{sandboxIdOrName} 200', 'api DELETE /sandbox/{sandboxIdOrName} 200', 'api POST /sandbox/{sandboxIdOrName}/autostop/{interval} 200', 'api POST /sandbox/{sandboxIdOrName}/autodelete/{interval} 200', 'api PUT /sandbox/{sandboxIdOrName}/labels 200', 'toolbox POST /process/session/{sessionId}/exec 202', 'toolbox POST /process/session/{sessionId}/exec 200', 'toolbox GET /process/session/{sessionId}/command/{commandId} 200', 'toolbox GET /process/session/{sessionId}/command/{commandId}/logs 200', 'toolbox GET /process/session/{sessionId} 200', 'toolbox POST /process/execute 200', 'toolbox GET /user-home-dir 200']) {
      expect([...checked], op).toContain(op);
    }
  });
});
