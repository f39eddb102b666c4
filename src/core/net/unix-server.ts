import { chmod, rm } from 'node:fs/promises';
import type { Server } from 'node:http';

/** Listens on a unix socket (replacing a stale one); returns a close() that also removes it. */
export async function listenUnix(server: Server, socketPath: string, onClose: () => void = () => undefined): Promise<() => Promise<void>> {
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  // Connectable by the sandbox user whatever its uid (a container's uid 1000 is not ours); the
  // socket lives in a 0700 folder, so nobody else on the host can reach it.
  await chmod(socketPath, 0o666);
  return async () => {
    onClose();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(socketPath, { force: true });
  };
}
