import { z } from 'zod';
import { num, sizeMib, str } from '../../config/env-parse.js';
import type { ProviderModule } from '../module.js';

const config = z
  .object({
    image: z.string().min(1).default('parallel-cc-agent:latest'),
    network: z.enum(['none', 'bridge', 'host']).default('none'),
    memoryLimit: z.string().regex(/^\d+(\.\d+)?[kmgKMG]?$/, 'a size like 512m or 2g').default('2g'),
    cpuLimit: z.number().positive().default(1),
  })
  .strict()
  .default({});

/** One hardened docker container per session. */
export const dockerModule: ProviderModule<'docker', typeof config> = {
  name: 'docker',
  summary: 'docker',
  config,
  env: [
    { name: 'PARALLEL_CC_DOCKER_IMAGE', key: 'image', parse: str },
    { name: 'PARALLEL_CC_DOCKER_NETWORK', key: 'network', parse: str },
    { name: 'PARALLEL_CC_DOCKER_MEMORY_LIMIT', key: 'memoryLimit', parse: str },
    { name: 'PARALLEL_CC_DOCKER_CPU_LIMIT', key: 'cpuLimit', parse: num },
  ],
  flags: [
    { flags: '--docker-image <image>', help: 'image for --provider docker (default parallel-cc-agent:latest)', key: 'image' },
    { flags: '--docker-network <mode>', help: 'none (default: only the model API and allowlisted hosts, through the proxy) | bridge | host', key: 'network' },
  ],
  fromTemplate(t, machine) {
    const notes: string[] = [];
    let cpus = t.cpus;
    // Docker refuses more CPUs than the machine has: use them all, and say so.
    if (cpus !== undefined && cpus > machine.cpus) {
      notes.push(`template ${t.name} asks for ${cpus} CPUs; this machine has ${machine.cpus}: using ${machine.cpus}`);
      cpus = machine.cpus;
    }
    return {
      config: { ...(t.image ? { image: t.image } : {}), ...(cpus !== undefined ? { cpuLimit: cpus } : {}), ...(t.memory !== undefined ? { memoryLimit: sizeMib(t.memory) } : {}) },
      ignored: ['e2bTemplate', 'daytonaSnapshot', 'cloudflareInstanceType', 'disk'],
      notes,
    };
  },
  async doctor({ probe, required }) {
    const docker = await probe(['docker', 'version', '--format', '{{.Server.Version}}']);
    return [
      {
        name: 'docker daemon',
        ok: docker.ok,
        required,
        detail: docker.ok ? `server ${docker.out}` : 'not reachable',
        fix: 'Install and start Docker (sudo apt-get install docker.io && sudo systemctl start docker), or use the native provider.',
      },
    ];
  },
  async load() {
    const { DockerProvider } = await import('./index.js');
    return (env, section) => new DockerProvider(env, section);
  },
};
