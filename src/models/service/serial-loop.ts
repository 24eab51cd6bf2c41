// The service loop's one rule: inbound messages, from every connection and state, are handled
// one at a time in arrival order, as the original's single poll loop does, so a handler always
// sees states that no other message is changing.

/** One message at a time, in arrival order; nothing runs before `open()`. */
export class SerialLoop {
  private tail: Promise<unknown>;
  private openGate!: () => void;
  private opened = false;
  private pending = 0;
  private readonly release = () => {
    this.pending--;
  };
  constructor() {
    this.tail = new Promise<void>((resolve) => (this.openGate = resolve));
  }
  open(): void {
    this.opened = true;
    this.openGate();
  }
  run<T>(work: () => Promise<T>): Promise<T> {
    // Idle: start at once rather than a promise hop later (this is on every message's path).
    const idle = this.opened && this.pending === 0;
    this.pending++;
    const result = idle ? work() : this.tail.then(work);
    this.tail = result.then(this.release, this.release);
    return result;
  }
  idle(): Promise<unknown> {
    return this.tail;
  }
}
