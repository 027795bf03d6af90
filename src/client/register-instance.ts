/**
 * registerInstance: what a business server calls to put itself into a route
 * (docs/client.md, docs/registry.md "The server side"). The registration
 * itself is the reactor's InstanceRegistration; this adds the address forms,
 * the default load, in-flight counting, an ordered close and, on request,
 * closing on SIGTERM/SIGINT.
 */
import type { InstanceLoad } from '../protocol/messages.js';
import { CallCounter } from '../reactor/call-counter.js';
import { parseEndpointList, type Endpoint } from '../reactor/endpoint.js';
import { processLoad } from '../reactor/instance-load.js';
import { InstanceRegistration, type RegistrationOptions } from '../reactor/instance-registration.js';

export {
  RegistrationClosedError,
  RegistrationRefusedError,
  RegistrationTimeoutError,
  DEFAULT_REGISTRATION_TTL_MS,
  DEFAULT_REGISTRATION_TIMEOUT_MS,
} from '../reactor/instance-registration.js';

export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface RegisterInstanceOptions extends Omit<RegistrationOptions, 'dns' | 'load'> {
  /** "HOST:PORT[,HOST:PORT...]" or endpoints: tried in order, the next one on a failed or lost connection. */
  dns: string | Endpoint[];
  /** Replaces the default load (event-loop utilisation as the score, CPU share, the counts below). */
  load?: () => InstanceLoad;
  /** Open connections, for the default load; 0 unless given. */
  connections?: () => number;
  /** close(): how long calls still in flight get to finish. Default 10000 ms. */
  drainTimeoutMs?: number;
  /** On SIGTERM or SIGINT: close(), then let the signal take its course. Default false. */
  closeOnSignal?: boolean;
}

export interface InstanceHandle {
  /** True while a dns holds this instance's lease. */
  readonly registered: boolean;
  /** The lease id, while registered. */
  readonly lease: number | undefined;
  /** The address the dns registered, while registered. */
  readonly ip: string | undefined;
  /** Calls between begin() and end(). */
  readonly inFlight: number;
  /** A call started: counted in the load, and close() waits for it. */
  begin(): void;
  /** A call finished. */
  end(): void;
  /** Deregisters (waiting for the reply, bounded), waits for calls in flight (bounded), closes the link. */
  close(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

class RegisteredInstance implements InstanceHandle {
  private readonly registration: InstanceRegistration;
  private readonly drainTimeoutMs: number;
  private readonly calls = new CallCounter();
  private closing: Promise<void> | undefined;
  private signalListener: ((signal: NodeJS.Signals) => void) | undefined;

  constructor(options: RegisterInstanceOptions) {
    const dns = typeof options.dns === 'string' ? parseEndpointList(options.dns) : options.dns;
    const connections = options.connections ?? (() => 0);
    const load = options.load ?? processLoad(() => ({ inFlight: this.calls.inFlight, connections: connections() }));
    this.registration = new InstanceRegistration({ ...options, dns, load });
    this.drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  }

  get registered(): boolean {
    return this.registration.registered;
  }

  get lease(): number | undefined {
    return this.registration.leaseId;
  }

  get ip(): string | undefined {
    return this.registration.registeredIp;
  }

  get inFlight(): number {
    return this.calls.inFlight;
  }

  begin(): void {
    this.calls.begin();
  }

  end(): void {
    this.calls.end();
  }

  start(): Promise<void> {
    return this.registration.start();
  }

  /** A process-wide listener: once closed, the signal is raised again so it does what it would have without us. */
  listenForSignals(): void {
    const listener = (signal: NodeJS.Signals) => {
      void this.close().then(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    this.signalListener = listener;
    for (const signal of SIGNALS) process.once(signal, listener);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.signalListener) for (const signal of SIGNALS) process.off(signal, this.signalListener);
    await this.registration.deregister();
    await this.calls.idle(this.drainTimeoutMs);
    await this.registration.close();
  }
}

/**
 * Registers (modid, cmdid) at ip:port with dns and keeps the lease alive;
 * resolves once a dns accepted it. Rejects with RegistrationRefusedError
 * (carrying the RegistryStatus) for a refusal retrying cannot fix, with
 * RegistrationTimeoutError when none was accepted within timeoutMs.
 */
export async function registerInstance(options: RegisterInstanceOptions): Promise<InstanceHandle> {
  const instance = new RegisteredInstance(options);
  await instance.start();
  if (options.closeOnSignal) instance.listenForSignals();
  return instance;
}
