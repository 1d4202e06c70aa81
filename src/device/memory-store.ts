/**
 * The in-memory {@link DeviceStore}: every operation runs in one tick (atomic in-process).
 * Bounded: requests are swept once past their grace period, and at most `max` are held.
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { TemporarilyUnavailable } from '../core/errors';
import { DEVICE_RECORD_GRACE, type DeviceAuthorization, type DeviceStore } from './types';

/** An in-process {@link DeviceStore} holding at most `max` requests (default 100 000). */
export function memoryDeviceStore(options: { max?: number } = {}): DeviceStore {
  const max = options.max ?? 100_000;
  const byId = new Map<string, DeviceAuthorization>();
  const byUserCode = new Map<string, string>();
  const drop = (record: DeviceAuthorization): void => {
    byId.delete(record.id);
    if (record.userCode !== undefined) byUserCode.delete(record.userCode);
  };
  // Insertion order is creation order, and a server gives every request the same lifetime:
  // the stale ones are at the front, so a sweep stops at the first live one.
  const sweep = (): void => {
    const now = nowSeconds();
    for (const record of byId.values()) {
      if (record.expiresAt + DEVICE_RECORD_GRACE > now) break;
      drop(record);
    }
  };
  const copy = (record: DeviceAuthorization): DeviceAuthorization => ({ ...record, scope: [...record.scope] });

  return {
    async create(record) {
      sweep();
      if (byId.has(record.id) || (record.userCode !== undefined && byUserCode.has(record.userCode)))
        throw new Error('memoryDeviceStore.create: the id or user code is in use.');
      if (byId.size >= max)
        throw new TemporarilyUnavailable('Too many pending device authorizations; try again later.', {
          'Retry-After': '5',
        });
      byId.set(record.id, copy(record));
      if (record.userCode !== undefined) byUserCode.set(record.userCode, record.id);
    },
    async findByUserCode(userCode, now) {
      const id = byUserCode.get(userCode);
      const record = id === undefined ? undefined : byId.get(id);
      return record && record.status === 'pending' && record.expiresAt > now ? copy(record) : undefined;
    },
    async decide(userCode, decision, now) {
      const id = byUserCode.get(userCode);
      const record = id === undefined ? undefined : byId.get(id);
      if (!record || record.status !== 'pending' || record.expiresAt <= now) return undefined;
      byUserCode.delete(userCode);
      const decided: DeviceAuthorization =
        decision === 'denied'
          ? { ...record, userCode: undefined, status: 'denied' }
          : { ...record, userCode: undefined, status: 'approved', userId: decision.userId, scope: [...decision.scope] };
      byId.set(record.id, decided);
      return copy(decided);
    },
    async poll(id, nowMs) {
      const record = byId.get(id);
      if (!record) return undefined;
      const slowDown = record.lastPolledAt !== undefined && nowMs - record.lastPolledAt < record.interval * 1000;
      const polled = { ...record, lastPolledAt: nowMs, interval: slowDown ? record.interval + 5 : record.interval };
      byId.set(id, polled);
      return { record: copy(polled), slowDown };
    },
    async consume(id) {
      const record = byId.get(id);
      if (!record || record.status === 'pending') return undefined;
      drop(record);
      return copy(record);
    },
  };
}
