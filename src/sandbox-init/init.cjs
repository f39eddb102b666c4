'use strict';
// Runs as the first process inside a local sandbox that has no network of its own. It bridges
// loopback ports to the host-side unix sockets that were bind-mounted in (the credential broker
// and the egress proxy), then runs the agent and exits with its status. Plain CommonJS with no
// dependencies: it must run with just the node binary the sandbox can see.
// argv: node init.cjs '<json: {"bridges":[{"port":N,"socket":"/path"}],"argv":["cmd",...]}>'
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
      process.exit(code === null ? 128 + (require('node:os').constants.signals[signal] || 9) : code);
    });
  },
  (e) => {
    process.stderr.write(`parallel-cc: cannot open network bridge: ${e.message}\n`);
    process.exit(125);
  },
);
