/**
 * Binds an HTTP server (edge, router, a job's ops server) and turns bind errors into
 * HERALD_CONFIG_INVALID messages that name the setting to change.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeraldError } from '../../core/errors.ts';

/**
 * Listens on host:port (port 0 = any free port).
 * @returns the base URL, e.g. `http://127.0.0.1:8080` (IPv6 addresses in brackets)
 * @throws HeraldError HERALD_CONFIG_INVALID for a port in use or not allowed, or a host that is
 *   not an address of this machine; other listen errors as they are
 */
export async function listen(server: http.Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        reject(new HeraldError('HERALD_CONFIG_INVALID', `Port ${port} on ${host} is ${err.code === 'EACCES' ? 'not allowed' : 'in use'}; set PORT (or --port) to a free port.`, { cause: err }));
      } else if (err.code === 'ENOTFOUND' || err.code === 'EADDRNOTAVAIL' || err.code === 'EAI_AGAIN' || err.code === 'EAI_FAIL') {
        reject(new HeraldError('HERALD_CONFIG_INVALID', `Cannot listen on HERALD_HOST=${JSON.stringify(host)} (${err.code}); set HERALD_HOST (or --host) to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0.`, { cause: err }));
      } else reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
