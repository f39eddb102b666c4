import { describe, expect, it } from 'vitest';
import { parseBudget, parseMaxConcurrent, rejectMultiOnlyFlags } from '../../src/cli/commands/multi.js';
import { assertAcyclic, buildTasks, findCycle, parseTaskFile, type RawTask } from '../../src/core/multi/tasks.js';
import { AppError } from '../../src/errors.js';

const usageError = (fn: () => unknown, message: RegExp): void => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).kind).toBe('usage');
    expect((e as AppError).exitCode).toBe(2);
    expect((e as AppError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a usage error matching ${String(message)}`);
};
const raw = (prompt: string, extra: Partial<RawTask> = {}): RawTask => ({ prompt, source: 'test', ...extra });

describe('task files', () => {
  it('skips blanks and comments, keeps plain lines verbatim and reads JSON lines', () => {
    const text = ['# header', '', '  Fix the login bug  ', '\t# indented comment', '{"id": "api", "prompt": "Add the endpoint", "base": "main", "after": ["task-1"]}', 'Say "hi" {not json}\r', ''].join('\n');
    const tasks = parseTaskFile(text, 'tasks.txt');
    expect(tasks).toEqual([
      { prompt: 'Fix the login bug', source: 'tasks.txt:3' },
      { prompt: 'Add the endpoint', id: 'api', base: 'main', after: ['task-1'], source: 'tasks.txt:5' },
      { prompt: 'Say "hi" {not json}', source: 'tasks.txt:6' },
    ]);
  });

  it('names the line of a bad JSON task', () => {
    usageError(() => parseTaskFile('ok\n{"prompt": "x",}', 'f.txt'), /^f\.txt:2: invalid JSON task/);
    usageError(() => parseTaskFile('{"prompt": 3}', 'f'), /"prompt" must be a string/);
    usageError(() => parseTaskFile('{"prompt": "x", "depends": ["a"]}', 'f'), /unknown key "depends"/);
    usageError(() => parseTaskFile('{"prompt": "x", "after": "a"}', 'f'), /"after" must be an array/);
    // Only lines starting with { are JSON; anything else is a prompt as written.
    expect(parseTaskFile('["x"]', 'f')).toEqual([{ prompt: '["x"]', source: 'f:1' }]);
  });
});

describe('buildTasks', () => {
  it('numbers tasks without ids, skipping ids already taken', () => {
    const tasks = buildTasks([raw('a'), raw('b', { id: 'task-2' }), raw('c'), raw('d', { after: ['task-2', 'task-2'] })]);
    expect(tasks.map((t) => t.id)).toEqual(['task-1', 'task-2', 'task-3', 'task-4']);
    expect(tasks[3]?.after).toEqual(['task-2']);
  });

  it('rejects empty input, empty prompts, bad or duplicate ids and unknown dependencies', () => {
    usageError(() => buildTasks([]), /no tasks given/);
    usageError(() => buildTasks([raw('  ')]), /prompt is empty/);
    usageError(() => buildTasks([raw('x\0y')]), /NUL/);
    usageError(() => buildTasks([raw('x', { id: '../etc' })]), /invalid task id "\.\.\/etc"/);
    usageError(() => buildTasks([raw('x', { id: 'a' }), raw('y', { id: 'a' })]), /task id "a" is already used/);
    usageError(() => buildTasks([raw('x', { after: ['ghost'] })]), /runs after "ghost", which is not a task/);
  });

  it('finds dependency cycles, including self-dependencies, and accepts DAGs', () => {
    const dag = buildTasks([raw('a', { id: 'a' }), raw('b', { id: 'b', after: ['a'] }), raw('c', { id: 'c', after: ['a', 'b'] })]);
    expect(findCycle(dag)).toBeUndefined();
    const cyc = buildTasks([raw('a', { id: 'a', after: ['c'] }), raw('b', { id: 'b', after: ['a'] }), raw('c', { id: 'c', after: ['b'] }), raw('d', { id: 'd' })]);
    expect(findCycle(cyc)).toEqual(['a', 'c', 'b', 'a']);
    usageError(() => assertAcyclic(cyc), /cycle: a → c → b → a/);
    expect(findCycle(buildTasks([raw('s', { id: 's', after: ['s'] })]))).toEqual(['s', 's']);
  });
});

describe('--multi flag parsing', () => {
  it('--max-concurrent is a positive whole number', () => {
    expect(parseMaxConcurrent(undefined)).toBe(3);
    expect(parseMaxConcurrent('8')).toBe(8);
    for (const bad of ['0', 'abc', '-1', '1.5', '', ' 2', '0x10', '1e1', '65']) usageError(() => parseMaxConcurrent(bad), /--max-concurrent must be a whole number/);
  });

  it('--budget-per-task is a positive amount', () => {
    expect(parseBudget(undefined)).toBeUndefined();
    expect(parseBudget('0.5')).toBe(0.5);
    for (const bad of ['0', '-1', 'abc', '1e3', '$1']) usageError(() => parseBudget(bad), /--budget-per-task must be a positive amount/);
    // The batch's --budget is parsed the same way and named in its errors.
    expect(parseBudget('2', '--budget')).toBe(2);
    usageError(() => parseBudget('0', '--budget'), /^--budget must be a positive amount of USD, got "0"$/);
  });

  it('--multi-only flags are rejected on a single run', () => {
    usageError(() => rejectMultiOnlyFlags({ task: ['x'], failFast: true }), /--task, --fail-fast need --multi/);
    usageError(() => rejectMultiOnlyFlags({ budget: '1' }), /--budget needs --multi/);
    expect(() => rejectMultiOnlyFlags({ prompt: 'x' })).not.toThrow();
  });
});
