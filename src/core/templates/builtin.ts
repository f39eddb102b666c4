import type { Template } from './schema.js';

/** spec 002's four environments, with their resources and packages. */
export const BUILTIN_TEMPLATES: Readonly<Record<string, Template>> = {
  python: {
    name: 'python',
    description: 'Python 3.11 for data science (NumPy, pandas, scikit-learn, Matplotlib)',
    image: 'python:3.11-slim',
    cpus: 2,
    memory: '2GB',
    timeout: 300,
    packages: ['numpy', 'pandas', 'scikit-learn', 'matplotlib'],
    packageManager: 'pip',
    allowDomains: ['pypi.org', 'files.pythonhosted.org'],
  },
  node: {
    name: 'node',
    description: 'Node.js 18 for web and API work (axios, express, lodash)',
    image: 'node:18-alpine',
    cpus: 2,
    memory: '2GB',
    timeout: 300,
    packages: ['axios', 'express', 'lodash'],
    packageManager: 'npm',
    allowDomains: ['registry.npmjs.org'],
  },
  general: {
    name: 'general',
    description: 'General purpose: Python 3, Node.js, git, curl, jq',
    image: 'ubuntu:22.04',
    cpus: 4,
    memory: '4GB',
    timeout: 600,
    packages: ['python3', 'nodejs', 'git', 'curl', 'jq'],
    packageManager: 'none',
  },
  minimal: {
    name: 'minimal',
    description: 'Minimal: bash, curl, git',
    image: 'alpine:3.18',
    cpus: 1,
    memory: '512MB',
    timeout: 120,
    packages: ['bash', 'curl', 'git'],
    packageManager: 'none',
  },
};
