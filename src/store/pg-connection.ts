// Pooled PostgreSQL connections: telling an unavailable database from a failed statement, and
// checking a client out for a transaction without risking an uncaught 'error' event.
import type pg from 'pg';

/**
 * PostgreSQL's connection-class failures (server shut down or restarting, connection lost or
 * refused): the database is unavailable, not the request wrong.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
  return err instanceof Error && /^Connection terminated|Client has encountered a connection error/.test(err.message);
}

/**
 * A pooled client for a transaction. While it is checked out the pool does not listen to its
 * 'error' event, and a connection cut between two statements would otherwise be an uncaught
 * exception that ends the process: the statement in flight (or the next) fails instead.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(broken?: Error): void }> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  return {
    client,
    release(broken?: Error) {
      client.removeListener('error', onError);
      client.release(broken ?? lost);
    },
  };
}
