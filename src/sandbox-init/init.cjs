'use strict';
// Runs as the first process inside a local sandbox that has no network of its own. It bridges
// loopback ports to the host-side unix sockets that were bind-mounted in (the credential broker
// and the egress proxy), then runs the agent and exits with its status. Plain CommonJS with no
// dependencies: it must run with just the node binary the sandbox can see.
// argv: node init.cjs '<json: {"bridges":[{"port":N,"socket":"/path"}],"argv":["cmd",...],"then":{...}}>'
// With `then` ({"steps":[{"argv":[...],"env":{...},"cwd":"/path"}],"mark":"..."}), once the command
// has exited by itself each step runs in turn in the same sandbox command, with exactly its
// environment and no stdin, and their outputs follow on stdout as one trailer: "\n<mark>", then for
// each step " <exit> <stdout bytes> <stderr bytes>\n" and both outputs (core/exec-trailer.ts reads
// it). Their exits never change ours.
const net = require('node:net');
const { spawn } = require('node:child_process');

const config = JSON.parse(process.argv[2] || '{}');
const bridges = Array.isArray(config.bridges) ? config.bridges : [];

function bridge({ port, socket }) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((client) => {
      const upstream = net.connect(socket);
      client.pipe(upstream).pipe(client);
      const close = () => { client.destroy(); upstream.destroy(); };
      client.on('error', close);
      upstream.on('error', close);
    });
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

Promise.all(bridges.map(bridge)).then(
  (servers) => {
    const [cmd, ...args] = config.argv;
    const child = spawn(cmd, args, { stdio: 'inherit' });
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    child.on('error', (e) => {
      process.stderr.write(`parallel-cc: cannot start ${cmd}: ${e.message}\n`);
      process.exit(127);
    });
    child.on('exit', (code, signal) => {
      servers.forEach((s) => s.close());
      const status = code === null ? 128 + (require('node:os').constants.signals[signal] || 9) : code;
      if (!config.then) process.exit(status);
      const { steps, mark } = config.then;
      process.stdout.write(`\n${mark}`);
      const step = (i) => {
        if (i >= steps.length) return process.stdout.write('', () => process.exit(status));
        const [thenCmd, ...thenArgs] = steps[i].argv;
        const next = spawn(thenCmd, thenArgs, { env: steps[i].env, cwd: steps[i].cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        const out = [];
        const err = [];
        next.stdout.on('data', (d) => out.push(d));
        next.stderr.on('data', (d) => err.push(d));
        next.on('error', (e) => err.push(Buffer.from(e.message)));
        next.on('close', (thenCode) => {
          const o = Buffer.concat(out);
          const e = Buffer.concat(err);
          process.stdout.write(` ${thenCode === null ? -1 : thenCode} ${o.length} ${e.length}\n`);
          process.stdout.write(o);
          process.stdout.write(e, () => step(i + 1));
        });
      };
      step(0);
    });
  },
  (e) => {
    process.stderr.write(`parallel-cc: cannot open network bridge: ${e.message}\n`);
    process.exit(125);
  },
);
