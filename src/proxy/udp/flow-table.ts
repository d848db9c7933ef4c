import type { UdpFlow } from './udp-flow.js';

/**
 * The flows of one UDP listener by client `address|port`, bounded: a full table refuses new
 * flows (the caller drops and counts the datagram) and never grows, so a flood of spoofed
 * sources costs at most `max` entries and `max` upstream sockets.
 */
export class FlowTable {
  readonly #flows = new Map<string, UdpFlow>();
  /** Most flows held at once. */
  max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** The key of a client: its address and port, which a Map hashes as one string. */
  static key(address: string, port: number): string {
    return `${address}|${port}`;
  }

  /** Flows held, pending admission included. */
  get size(): number {
    return this.#flows.size;
  }

  /** The flow of `key`, if any. */
  get(key: string): UdpFlow | undefined {
    return this.#flows.get(key);
  }

  /** True when one more flow fits. */
  get hasRoom(): boolean {
    return this.#flows.size < this.max;
  }

  /** Holds `flow` under its key; the caller checked {@link hasRoom}. */
  add(flow: UdpFlow): void {
    this.#flows.set(flow.key, flow);
  }

  /** Forgets `flow` (only if it is the one held under its key). */
  delete(flow: UdpFlow): void {
    if (this.#flows.get(flow.key) === flow) this.#flows.delete(flow.key);
  }

  /** Every flow; deleting the current one while iterating is safe (Map semantics). */
  values(): IterableIterator<UdpFlow> {
    return this.#flows.values();
  }
}
