// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_BIN = { group: ['**/bin.js', '**/bin-*.js', '**/bin', '**/bin-*'], message: 'Nothing imports an entry point (src/bin*.ts): move what you need out of it.' };
const NO_CLI = { group: ['**/cli/**'], message: 'The CLI is an adapter: core, providers, agents, store, config and the MCP server must not import src/cli (move the code to src/core).' };
const NO_MCP = { group: ['**/mcp/**'], message: 'The MCP server is an adapter: core, providers, agents, store and config must not import src/mcp.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results*', '**/*.cjs', '**/*.mjs', 'src/sandbox-init/*.js', 'scratch/**', 'deploy/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only the entry points (src/bin.ts, src/bin-claude-parallel.ts) may call process.exit.' }],
    },
  },
  { files: ['src/bin.ts', 'src/bin-claude-parallel.ts', 'scripts/**', 'bench/**', 'test/fixtures/**'], rules: { 'no-restricted-properties': 'off' } },
  // Layer rules (ARCHITECTURE.md): cli → core → providers/agents/store/config; the MCP server is an
  // adapter beside the CLI; nothing imports an entry point. A later block replaces an earlier one's
  // patterns for the files it matches, so each block repeats the entry-point pattern.
  { files: ['src/**/*.ts', 'test/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [NO_BIN] }] } },
  { files: ['src/mcp/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [NO_BIN, NO_CLI] }] } },
  {
    files: ['src/core/**/*.ts', 'src/providers/**/*.ts', 'src/agents/**/*.ts', 'src/store/**/*.ts', 'src/config/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_BIN, NO_CLI, NO_MCP] }] },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
