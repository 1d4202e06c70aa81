/**
 * A TCP proxy between a store client and its real server (Redis, PostgreSQL) that can lose
 * one reply: armed with a pattern, it forwards the first request chunk containing it, then
 * closes the client's connection as soon as the server starts answering, without passing the
 * answer on. The server has done the work; the client only sees its connection drop.
 */
import net from 'node:net';

/** A running proxy. */
export interface ReplyDroppingProxy {
  readonly port: number;
  /**
   * Lose the reply to the next request containing any of `patterns`. Resolves once the server has
   * answered that request and the client's connection was closed instead.
   */
  dropReplyTo(...patterns: string[]): Promise<void>;
  close(): Promise<void>;
}

/** Start a proxy on a free local port in front of `127.0.0.1:targetPort`. */
export async function replyDroppingProxy(targetPort: number): Promise<ReplyDroppingProxy> {
  let armed: { patterns: string[]; dropped: () => void } | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let dropNextReply: (() => void) | undefined;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (armed && armed.patterns.some((p) => chunk.includes(p))) {
        dropNextReply = armed.dropped;
        armed = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (dropNextReply) {
        const dropped = dropNextReply;
        end();
        dropped();
        return;
      }
      client.write(chunk);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    dropReplyTo(...patterns) {
      return new Promise<void>((resolve) => (armed = { patterns, dropped: resolve }));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
