// Bundles the compiled entry points (dist/bin.js, dist/bin-claude-parallel.js) with esbuild, in
// place: start-up then resolves and reads a few files instead of ~170 modules (issue 26). Packages
// stay external (node_modules), and every dynamic import() stays a separate chunk, so a command
// still loads only what it runs (dist/chunks/). The per-file tsc output stays next to it for
// whatever imports a module of dist directly.
//
// `import.meta.url` is the one thing bundling would change: code that finds a file next to its own
// module (sandbox-init/init.cjs, store/migrations/, ../bin.js, createRequire) would look next to the
// chunk instead. Each use is rewritten to the URL its module had in dist/, computed from the dist
// folder the running file is in, so the installed package can live anywhere.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';

const DIST = resolve('dist');
const ENTRIES = ['bin.js', 'bin-claude-parallel.js'];
// The pure-JS packages every command loads are bundled in: Node's ESM loader then neither resolves
// their ~30 files nor runs the CommonJS export lexer over commander and ignore (~10-15 ms of each
// start-up). Everything else stays external: native addons (better-sqlite3), and the vendor SDKs,
// which only the commands that use them load.
const BUNDLED = new Set(['commander', 'zod', 'ignore']);
const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.has(packageName(args.path)) ? undefined : { external: true }));
  },
};
// Bundled CommonJS code calls require() for Node's built-ins; an ES module has none of its own.
const REQUIRE = 'import { createRequire as __pccCreateRequire } from "node:module"; const require = __pccCreateRequire(import.meta.url);';
// Every output file (entry or chunk) is dist/<x>.js or dist/chunks/<x>.js: its dist folder is the
// part of its own URL up to the last "/dist/".
const ROOT = 'const __pccDist = import.meta.url.slice(0, import.meta.url.lastIndexOf("/dist/") + 6);';

const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(`${DIST}/`)) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return { contents: source, loader: 'js' };
      const here = JSON.stringify(relative(DIST, args.path));
      return { contents: source.replaceAll('import.meta.url', `new URL(${here}, __pccDist).href`), loader: 'js' };
    });
  },
};

// Chunk names change with their content: drop the last build's, or they pile up in the package.
await rm(`${DIST}/chunks`, { recursive: true, force: true });
await build({
  entryPoints: ENTRIES.map((e) => `${DIST}/${e}`),
  outdir: DIST,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: `${ROOT} ${REQUIRE}` },
  plugins: [externals, ownUrl],
  logLevel: 'warning',
});
