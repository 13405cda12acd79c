import { BackendError, type BackendFailure } from '../errors/backend-error';
import { InputError } from '../errors/input-error';
import type { Backend } from './backend';

export type BackendStatus = 'registered' | 'initializing' | 'ready' | 'failed';

/** One row of `listBackends()`. */
export interface BackendInfo {
  name: string;
  priority: number;
  status: BackendStatus;
  /** Why initialisation failed, when `status` is `failed`. */
  failureReason?: string;
}

type InitOutcome = { ok: true } | { ok: false; reason: string; cause?: unknown };

interface RegistryEntry {
  name: string;
  backend: Backend;
  priority: number;
  /** Registration order, to keep equal priorities in the order they were registered. */
  order: number;
  /** Set on first use and kept: concurrent callers share it, and its outcome is remembered. */
  initPromise?: Promise<InitOutcome>;
  outcome?: InitOutcome;
}

/**
 * A priority-ordered set of backends, initialised lazily and once each (the scheme of
 * onnxruntime-common's backend-impl.ts). Most code uses the shared registry through
 * `registerBackend` / `resolveBackend` / `listBackends`; tests create their own.
 */
export class BackendRegistry {
  private readonly entries = new Map<string, RegistryEntry>();
  private registrations = 0;

  /**
   * Registers `backend` under `name`; a higher `priority` is tried first. Registering a name
   * again replaces the entry only with a higher or equal priority (equal only for the same
   * object), so importing a backend package twice is harmless.
   */
  register(name: string, backend: Backend, priority = 0): void {
    if (typeof name !== 'string' || name === '') {
      throw new InputError({ field: 'name', value: name, expected: 'a non-empty backend name' });
    }
    if (!isBackend(backend)) {
      throw new InputError({
        field: 'backend',
        value: backend,
        expected: 'an object with a name, isAvailable() and createSession()',
      });
    }
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new InputError({ field: 'priority', value: priority, expected: 'a finite number' });
    }
    const existing = this.entries.get(name);
    if (existing !== undefined) {
      if (existing.backend === backend && existing.priority === priority) return;
      if (existing.priority > priority) return;
      if (existing.priority === priority) {
        throw new InputError({
          field: 'name',
          value: name,
          expected: `a name not yet registered at priority ${priority} (another backend holds it)`,
        });
      }
    }
    this.entries.set(name, { name, backend, priority, order: this.registrations++ });
  }

  /**
   * Returns the first backend, in the order of `names` (or by priority when omitted), that is
   * available and initialises. An empty `names` list means "any". Initialisation runs once per backend; a failure is remembered
   * and the next backend tried.
   *
   * @throws BackendError listing the reason of every backend that was tried.
   */
  async resolve(names?: readonly string[]): Promise<Backend> {
    const candidates =
      names !== undefined && names.length > 0 ? names : this.sortedEntries().map((entry) => entry.name);
    const failures: BackendFailure[] = [];
    for (const name of candidates) {
      const entry = this.entries.get(name);
      if (entry === undefined) {
        const known = [...this.entries.keys()];
        failures.push({
          backend: name,
          reason: `not registered (registered: ${known.length === 0 ? 'none' : known.join(', ')})`,
        });
        continue;
      }
      const outcome = await this.initialize(entry);
      if (outcome.ok) return entry.backend;
      failures.push({ backend: name, reason: outcome.reason, cause: outcome.cause });
    }
    if (candidates.length === 0) {
      throw new BackendError({
        failures,
        message: 'No backend is registered; import a backend package (e.g. @gemma3n/backend-node/register)',
      });
    }
    throw new BackendError({ failures, message: 'No usable backend' });
  }

  /** Every registered backend, highest priority first, with its initialisation status. */
  list(): BackendInfo[] {
    return this.sortedEntries().map((entry) => {
      const info: BackendInfo = { name: entry.name, priority: entry.priority, status: statusOf(entry) };
      if (entry.outcome !== undefined && !entry.outcome.ok) info.failureReason = entry.outcome.reason;
      return info;
    });
  }

  private sortedEntries(): RegistryEntry[] {
    return [...this.entries.values()].sort((left, right) => right.priority - left.priority || left.order - right.order);
  }

  private initialize(entry: RegistryEntry): Promise<InitOutcome> {
    entry.initPromise ??= runInit(entry.backend).then((outcome) => {
      entry.outcome = outcome;
      return outcome;
    });
    return entry.initPromise;
  }
}

async function runInit(backend: Backend): Promise<InitOutcome> {
  try {
    if (!(await backend.isAvailable())) return { ok: false, reason: 'not available in this environment' };
    await backend.init?.();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `initialisation failed: ${errorText(error)}`, cause: error };
  }
}

function statusOf(entry: RegistryEntry): BackendStatus {
  if (entry.outcome !== undefined) return entry.outcome.ok ? 'ready' : 'failed';
  return entry.initPromise === undefined ? 'registered' : 'initializing';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isBackend(value: unknown): value is Backend {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<Backend>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.isAvailable === 'function' &&
    typeof candidate.createSession === 'function' &&
    (candidate.init === undefined || typeof candidate.init === 'function')
  );
}

// The shared registry lives on globalThis under a registered symbol, so a backend package and an
// app that resolved two copies of @gemma3n/core still see the same backends.
const registryKey = Symbol.for('gemma3n.backend-registry');

/** The process-wide registry used by `registerBackend`, `resolveBackend` and `listBackends`. */
export function sharedBackendRegistry(): BackendRegistry {
  const holder = globalThis as typeof globalThis & { [registryKey]?: BackendRegistry };
  holder[registryKey] ??= new BackendRegistry();
  return holder[registryKey];
}

/** Registers a backend in the shared registry (see `BackendRegistry.register`). */
export function registerBackend(name: string, backend: Backend, priority = 0): void {
  sharedBackendRegistry().register(name, backend, priority);
}

/** Resolves a backend from the shared registry (see `BackendRegistry.resolve`). */
export function resolveBackend(names?: readonly string[]): Promise<Backend> {
  return sharedBackendRegistry().resolve(names);
}

/** Lists the shared registry's backends (see `BackendRegistry.list`). */
export function listBackends(): BackendInfo[] {
  return sharedBackendRegistry().list();
}
