// A small user-space thread scheduler in the manner of State Threads (ST): threads are generator functions, a
// blocking point (wait readable, wait writable, sleep) is a `yield` back to the scheduler, which keeps a run
// queue of threads ready to go and a min-heap of the timeouts of the parked ones (ST's clever structure, which
// the paper credits for its speed). Node's event loop plays the role of ST's poll(): its socket events wake the
// threads waiting on them, and one timer, armed for the earliest deadline in the heap, wakes those that timed out.
import type net from 'node:net';

/** Why a blocked thread resumed. */
export const READY = 0;
export const TIMEOUT = 1;
export const CLOSED = 2;
export type Wake = typeof READY | typeof TIMEOUT | typeof CLOSED;

const NONE = 0;
const READABLE = 1;
const WRITABLE = 2;
const SLEEP = 3;

/** What a thread yields at a blocking point; the scheduler only needs to know it parked. */
export type Block = { readonly parked: true };
const PARKED: Block = { parked: true };

export type Body = Generator<Block, void, Wake>;

class Thread {
  waitingFor = NONE;
  deadlineMs = Infinity;
  /** Position in the timeout heap, -1 when not in it. */
  heapIndex = -1;
  wake: Wake = READY;
  constructor(readonly body: Body) {}
}

/** Min-heap of threads by deadline, each knowing its index so a woken thread leaves it in O(log n). */
class TimeoutHeap {
  private readonly items: Thread[] = [];

  get top(): Thread | undefined {
    return this.items[0];
  }

  push(t: Thread): void {
    t.heapIndex = this.items.length;
    this.items.push(t);
    this.up(t.heapIndex);
  }

  remove(t: Thread): void {
    const i = t.heapIndex;
    if (i < 0) return;
    const last = this.items.pop()!;
    t.heapIndex = -1;
    if (i === this.items.length) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.items[parent]!.deadlineMs <= this.items[i]!.deadlineMs) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < this.items.length && this.items[l]!.deadlineMs < this.items[least]!.deadlineMs) least = l;
      if (r < this.items.length && this.items[r]!.deadlineMs < this.items[least]!.deadlineMs) least = r;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }
}

export class Scheduler {
  private runQueue: Thread[] = [];
  private readonly timeouts = new TimeoutHeap();
  private current: Thread | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;

  /** Starts a thread on `socket`: its events wake the thread when it waits for them. */
  spawn(socket: net.Socket, body: Body): void {
    const thread = new Thread(body);
    socket.on('readable', () => this.notify(thread, READABLE));
    socket.on('drain', () => this.notify(thread, WRITABLE));
    socket.on('error', () => {}); // a reset ends this thread only; 'close' follows
    socket.on('close', () => this.notify(thread, NONE));
    this.makeRunnable(thread, READY);
  }

  // The blocking points: each records what the current thread waits for, to be yielded straight away.
  waitReadable(timeoutMs: number): Block {
    return this.park(READABLE, timeoutMs);
  }
  waitWritable(timeoutMs: number): Block {
    return this.park(WRITABLE, timeoutMs);
  }
  sleep(ms: number): Block {
    return this.park(SLEEP, ms);
  }

  private park(what: number, timeoutMs: number): Block {
    const t = this.current!;
    t.waitingFor = what;
    t.deadlineMs = Date.now() + timeoutMs;
    this.timeouts.push(t);
    this.armTimer();
    return PARKED;
  }

  /** A socket event: wakes its thread if it waits for that (`NONE` means closed, which wakes any wait). */
  private notify(t: Thread, what: number): void {
    if (t.waitingFor === NONE || (what !== NONE && what !== t.waitingFor)) return;
    this.timeouts.remove(t);
    this.makeRunnable(t, what === NONE ? CLOSED : READY);
  }

  private makeRunnable(t: Thread, wake: Wake): void {
    t.waitingFor = NONE;
    t.wake = wake;
    this.runQueue.push(t);
    if (!this.running) this.run();
  }

  /** Runs every runnable thread until each blocks or ends, as ST's scheduler does between two polls. */
  private run(): void {
    this.running = true;
    while (this.runQueue.length > 0) {
      const queue = this.runQueue;
      this.runQueue = [];
      for (const t of queue) {
        this.current = t;
        t.body.next(t.wake);
      }
    }
    this.current = undefined;
    this.running = false;
  }

  /** One Node timer for the whole heap, armed for its earliest deadline. */
  private armTimer(): void {
    const top = this.timeouts.top;
    if (!top || top.deadlineMs >= this.timerAtMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAtMs = top.deadlineMs;
    this.timer = setTimeout(() => this.expire(), Math.max(0, top.deadlineMs - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    const nowMs = Date.now();
    for (let t = this.timeouts.top; t && t.deadlineMs <= nowMs; t = this.timeouts.top) {
      this.timeouts.remove(t);
      this.makeRunnable(t, TIMEOUT);
    }
    this.armTimer();
  }
}
