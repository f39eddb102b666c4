import { describe, expect, it } from 'vitest';
import { githubSlug } from '../../src/core/merge/pr.js';
import { dependencyOrder } from '../../src/core/merge/select.js';
import type { Session } from '../../src/store/sessions.js';

describe('githubSlug', () => {
  it('parses GitHub remotes in https, ssh:// and scp-like form, with or without .git', () => {
    for (const url of ['https://github.com/acme/widgets.git', 'https://github.com/acme/widgets', 'https://x-access-token:abc@github.com/acme/widgets.git', 'git@github.com:acme/widgets.git', 'ssh://git@github.com/acme/widgets.git', 'ssh://git@github.com:22/acme/widgets'])
      expect(githubSlug(url), url).toEqual({ host: 'github.com', slug: 'acme/widgets' });
  });
  it('is undefined for other hosts and local paths', () => {
    for (const url of ['/srv/git/widgets.git', 'https://gitlab.com/acme/widgets.git', 'git@github.com.evil.example:acme/widgets.git', 'https://github.com/acme']) expect(githubSlug(url), url).toBeUndefined();
  });
});

const row = (id: string, taskId: string, branch: string, baseRef = 'HEAD', createdAt = '2026-01-01T00:00:00.000Z'): Session => ({ id, taskId, branch, baseRef, createdAt }) as Session;

describe('dependencyOrder', () => {
  it('puts a task after the task whose branch it started from, others by task id (task-2 before task-10)', () => {
    const list = [row('d', 'docs', 'parallel-cc/d', 'parallel-cc/a'), row('b', 'task-10', 'parallel-cc/b'), row('a', 'api', 'parallel-cc/a', 'parallel-cc/s'), row('s', 'schema', 'parallel-cc/s'), row('c', 'task-2', 'parallel-cc/c')];
    const order = dependencyOrder(list).map((s) => s.taskId);
    expect(order.indexOf('schema')).toBeLessThan(order.indexOf('api'));
    expect(order.indexOf('api')).toBeLessThan(order.indexOf('docs'));
    expect(order.indexOf('task-2')).toBeLessThan(order.indexOf('task-10'));
    expect(order).toHaveLength(5);
  });
});

describe('validTranscript (a transcript is sandbox output: hostile)', () => {
  it('keeps JSON-object lines, refuses empty, oversized, non-UTF-8 and non-object lines', async () => {
    const { validTranscript, TRANSCRIPT_MAX_BYTES } = await import('../../src/core/resume.js');
    expect(validTranscript(Buffer.from('{"type":"user"}\n{"type":"assistant"}\n'))).toBe('{"type":"user"}\n{"type":"assistant"}\n');
    expect(() => validTranscript(Buffer.alloc(0))).toThrow(/0 bytes/);
    expect(() => validTranscript(Buffer.alloc(TRANSCRIPT_MAX_BYTES + 1, 0x20))).toThrow(/at most/);
    expect(() => validTranscript(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow();
    expect(() => validTranscript(Buffer.from('{"a":1}\n[1,2]\n'))).toThrow(/not a JSON object/);
    expect(() => validTranscript(Buffer.from('{"a":1}\nnot json\n'))).toThrow();
  });
});
