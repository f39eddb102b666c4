/**
 * The Worker behind `parallel-cc --provider cloudflare`: the Sandbox SDK's HTTP bridge and nothing
 * else. parallel-cc speaks the bridge's 0.x protocol (routes under /v1, SSE exec); keep
 * @cloudflare/sandbox at the version in package.json, which parallel-cc is tested against.
 */
import { bridge } from '@cloudflare/sandbox/bridge';

// Wrangler wires these Durable Object classes to the bindings of wrangler.jsonc.
export { Sandbox } from '@cloudflare/sandbox';
export { WarmPool } from '@cloudflare/sandbox/bridge';

// Authentication is the bridge's: every /v1 route needs `Authorization: Bearer <SANDBOX_API_KEY>`
// (the Worker secret). Anything else gets a plain 404.
export default bridge({});
