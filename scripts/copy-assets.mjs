// Copies the non-TypeScript files the build needs next to the compiled code.
import { cpSync, chmodSync } from 'node:fs';

cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
cpSync('src/sandbox-init', 'dist/sandbox-init', { recursive: true });
chmodSync('dist/bin.js', 0o755);
chmodSync('dist/bin-claude-parallel.js', 0o755);
