/**
 * E2B runs every command as `bash -l -c <string>`: the quoting and the command script come from the
 * remote kit (providers/remote/), re-exported here for E2B's own modules and tests.
 */
export { shellJoin, shellQuote } from '../remote/quote.js';
export { commandScript, type ScriptFiles } from '../remote/kept-log.js';
