import { spawnSync } from 'node:child_process';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts (redis-server,
 * PostgreSQL). Synchronous, so module-level set-up can use it: a child process binds port 0
 * and reports what it got.
 */
export function freePort(): number {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const port = Number(out.stdout);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port: ${out.stderr}`);
  return port;
}
