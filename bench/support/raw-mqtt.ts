/**
 * A minimal MQTT 5 client over a raw socket for the load side of bench/ingest.ts: CONNECT,
 * SUBSCRIBE, QoS 1 PUBLISH with the agent's `ack=cloud` user property, PUBACKs counted, incoming
 * PUBLISHes handed over (and PUBACKed when QoS 1). The bench measures the ingest and the broker,
 * so the load generator must cost as little CPU as possible on a 2-core machine: mqtt.js spends
 * tens of microseconds per QoS 1 publish (promise, store, packet object), this a few.
 * Not a general client: no reconnect, no QoS 2, no retained messages, no topic aliases.
 */
import net from 'node:net';

const USER_PROPERTY = 0x26;

/** Remaining-length varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

/** The property section of a telemetry PUBLISH as the agent sends it: ack=cloud. */
const AGENT_PROPERTIES = Buffer.concat([Buffer.from([USER_PROPERTY]), str('ack'), str('cloud')]);

export interface RawClientOptions {
  host: string;
  port: number;
  clientId: string;
  /** Incoming PUBLISH: topic and payload (PUBACK is sent for QoS 1). */
  onMessage?: (topic: string, payload: Buffer) => void;
}

export class RawMqttClient {
  /** The broker's Receive Maximum (CONNACK): QoS 1 PUBLISHes we may have unacknowledged. */
  receiveMaximum = 65_535;
  inFlight = 0;
  pubacks = 0;
  received = 0;
  private nextId = 1;
  private buf: Buffer = Buffer.alloc(0);
  private readonly socket: net.Socket;
  private connack: ((err?: Error) => void) | undefined;
  private suback: (() => void) | undefined;
  /** Packets written in this turn of the event loop, sent as one write (one syscall, not one each). */
  private out: Buffer[] = [];
  /** Called when a PUBACK frees a slot in the window. */
  onDrain: (() => void) | undefined;

  private constructor(private readonly opts: RawClientOptions) {
    this.socket = net.connect({ host: opts.host, port: opts.port, noDelay: true });
    this.socket.on('data', (d) => this.onData(d));
    this.socket.on('error', (err) => this.connack?.(err));
  }

  static async connect(url: string, clientId: string, onMessage?: RawClientOptions['onMessage']) {
    const u = new URL(url);
    const c = new RawMqttClient({ host: u.hostname, port: Number(u.port || 1883), clientId, onMessage });
    await new Promise<void>((resolve, reject) => {
      c.connack = (err) => (err ? reject(err) : resolve());
      c.socket.once('connect', () => {
        // Protocol name, level 5, clean start, keep alive 60 s, no properties, client id.
        const body = Buffer.concat([str('MQTT'), Buffer.from([5, 0x02, 0, 60, 0]), str(clientId)]);
        c.socket.write(Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]));
      });
    });
    return c;
  }

  async subscribe(filter: string): Promise<void> {
    const body = Buffer.concat([Buffer.from([0, 1, 0]), str(filter), Buffer.from([1])]);
    await new Promise<void>((resolve) => {
      this.suback = resolve;
      this.socket.write(Buffer.concat([Buffer.from([0x82, ...varint(body.length)]), body]));
    });
  }

  /** Room for another QoS 1 PUBLISH in the broker's receive window. */
  get canPublish(): boolean {
    return this.inFlight < this.receiveMaximum;
  }

  /** A QoS 1 PUBLISH with ack=cloud; `topic` pre-encoded with `str`-style length prefix. */
  publish(topic: Buffer, payload: Uint8Array): void {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    const remaining = topic.length + 2 + 1 + AGENT_PROPERTIES.length + payload.length;
    const head = Buffer.from([0x32, ...varint(remaining)]);
    const pid = Buffer.from([id >> 8, id & 0xff, AGENT_PROPERTIES.length]);
    this.inFlight++;
    this.write(
      head,
      topic,
      pid,
      AGENT_PROPERTIES,
      Buffer.from(payload.buffer, payload.byteOffset, payload.length),
    );
  }

  private write(...parts: Buffer[]) {
    if (this.out.length === 0) setImmediate(() => this.flush());
    for (const p of parts) this.out.push(p);
  }

  private flush() {
    const out = this.out;
    this.out = [];
    this.socket.write(Buffer.concat(out));
  }

  end(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.end(Buffer.from([0xe0, 0]), () => resolve());
      this.socket.once('close', () => resolve());
    });
  }

  private onData(d: Buffer) {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let off = 0;
    for (;;) {
      if (this.buf.length - off < 2) break;
      let len = 0;
      let mul = 1;
      let i = off + 1;
      let complete = false;
      for (; i < this.buf.length && i < off + 5; i++) {
        const b = this.buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || this.buf.length < i + len) break;
      this.packet(this.buf[off]!, this.buf.subarray(i, i + len));
      off = i + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  private packet(first: number, body: Buffer) {
    const type = first >> 4;
    if (type === 4) {
      this.pubacks++;
      this.inFlight--;
      this.onDrain?.();
    } else if (type === 3) {
      const qos = (first >> 1) & 3;
      const tlen = body.readUInt16BE(0);
      let p = 2 + tlen;
      let id = 0;
      if (qos > 0) {
        id = body.readUInt16BE(p);
        p += 2;
      }
      const [propLen, n] = readVarint(body, p);
      p += n + propLen;
      this.received++;
      this.opts.onMessage?.(body.toString('utf8', 2, 2 + tlen), body.subarray(p));
      if (qos === 1) this.write(Buffer.from([0x40, 2, id >> 8, id & 0xff]));
    } else if (type === 2) {
      if (body[1] !== 0) return this.connack?.(new Error(`CONNACK reason ${body[1]}`));
      const [propLen, n] = readVarint(body, 2);
      const max = connackReceiveMaximum(body.subarray(2 + n, 2 + n + propLen));
      if (max !== undefined) this.receiveMaximum = max;
      this.connack?.();
      this.connack = undefined;
    } else if (type === 9) {
      this.suback?.();
      this.suback = undefined;
    }
  }
}

function readVarint(b: Buffer, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    const x = b[at + i]!;
    v += (x & 0x7f) * mul;
    mul *= 128;
    if ((x & 0x80) === 0) return [v, i + 1];
  }
  throw new Error('bad varint');
}

/** Property id -> its value's size (-1: a string, -2: a string pair, -3: binary data, 0: varint). */
const PROPERTY_SIZE: Record<number, number> = {
  17: 4,
  18: -1,
  19: 2,
  21: -1,
  22: -3,
  26: -1,
  28: -1,
  31: -1,
  33: 2,
  34: 2,
  36: 1,
  37: 1,
  38: -2,
  39: 4,
  40: 1,
  41: 1,
  42: 1,
};

function connackReceiveMaximum(props: Buffer): number | undefined {
  let p = 0;
  while (p < props.length) {
    const id = props[p++]!;
    if (id === 0x21) return props.readUInt16BE(p);
    const size = PROPERTY_SIZE[id];
    if (size === undefined) return undefined;
    if (size > 0) p += size;
    else if (size === -2) {
      p += 2 + props.readUInt16BE(p);
      p += 2 + props.readUInt16BE(p);
    } else p += 2 + props.readUInt16BE(p);
  }
  return undefined;
}

/** A topic as the PUBLISH carries it (length-prefixed), encoded once per vehicle. */
export const encodeTopic = str;
