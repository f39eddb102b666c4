import { appendFileSync } from 'node:fs';
import type { StreamEvent } from './events.js';

/**
 * Appends events to the session's NDJSON log (and an optional --local-log copy). Writes are
 * synchronous and line-sized so another process tailing the file (`sandbox logs --follow`) never
 * sees half an event.
 */
export class SessionLog {
  constructor(private readonly paths: string[]) {}

  write(event: StreamEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    for (const p of this.paths) appendFileSync(p, line, { mode: 0o600 });
  }
}
