import type { Duplex } from 'node:stream';

/**
 * Shared input guards of the host-side HTTP servers a sandbox talks to (the credential broker and
 * the egress proxy). Everything arriving on them is hostile: a malformed request gets a 4xx and is
 * dropped, and nothing it contains may raise an exception in the CLI.
 */

/** Largest request head accepted (Node's default, stated so it cannot drift): larger ones get 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 405: 'Method Not Allowed', 431: 'Request Header Fields Too Large' };

/** A complete raw HTTP/1.1 response that closes the connection (for sockets outside Node's response object). */
export function rawResponse(status: number, body: string, contentType = 'text/plain'): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Text from a sandbox made safe to log: printable ASCII only, at most `max` characters. */
export function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The answer to a request Node's parser refused (`clientError`): 431 for a huge head, else 400; then the socket goes. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  // Mid-response (a pipelined request after a streamed answer) a raw 400 would corrupt the stream.
  const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code !== 'ECONNRESET' && !busy && socket.writable && !socket.writableEnded) {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(rawResponse(status, `parallel-cc: ${status === 431 ? 'request headers too large' : 'malformed HTTP request'}\n`));
    // Read and drop the rest of what the peer sends: closing on unread data would reset the
    // connection and lose the answer (a 100 KB head is still arriving). Gone when the peer closes,
    // or after 5 s at most.
    socket.resume();
    socket.on('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5_000).unref();
  } else socket.destroy();
}
