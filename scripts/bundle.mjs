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
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';

const DIST = resolve('dist');
const ENTRIES = ['bin.js', 'bin-claude-parallel.js'];
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

await build({
  entryPoints: ENTRIES.map((e) => `${DIST}/${e}`),
  outdir: DIST,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: ROOT },
  plugins: [ownUrl],
  logLevel: 'warning',
});
