// A dedicated PostgreSQL connection that LISTENs on one channel and keeps doing so:
// when the connection drops it reconnects with capped exponential backoff.
// Notifications sent while it is disconnected are lost (PostgreSQL does not queue
// them for absent listeners).

import pg from 'pg';

const MIN_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

export class NotificationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly onPayload: (payload: string) => void,
    /** Called after each successful reconnection (not after start()). */
    private readonly onReconnect: () => void,
  ) {}

  /** Connects and LISTENs; rejects if the first attempt fails. */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    let ready = false;
    // A dropped connection emits 'error' then 'end'; reconnection is driven by 'end'.
    client.on('error', () => undefined);
    client.on('notification', (msg) => {
      if (msg.channel === this.channel && msg.payload !== undefined) this.onPayload(msg.payload);
    });
    client.once('end', () => {
      if (ready && this.client === client) {
        this.client = undefined;
        this.scheduleReconnect();
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    ready = true;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.failures);
    this.failures += 1;
    this.timer = setTimeout(() => {
      this.connect().then(
        () => {
          if (!this.stopped) this.onReconnect();
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
  }
}
