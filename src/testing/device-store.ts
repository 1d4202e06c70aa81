/**
 * `describeDeviceStore`: the {@link DeviceStore} contract (RFC 8628 device authorizations) as
 * a test suite.
 * @packageDocumentation
 */
import { hashToken, randomToken } from '../core/crypto';
import type { DeviceAuthorization, DeviceStore } from '../device/types';
import { nowSeconds, once, rule, show, testApi, type KitTestApi } from './harness';

/** How {@link describeDeviceStore} reaches the store under test. */
export interface DeviceStoreHarness extends KitTestApi {
  /** The store under test (called once); it may share its backend with other tests. */
  create(): DeviceStore | Promise<DeviceStore>;
  /** A second instance over the same backend, for a shared store: the atomic rules then race across both. */
  peer?(): DeviceStore | Promise<DeviceStore>;
  /** How many concurrent calls race. Default 20. */
  concurrency?: number;
}

function pending(over: Partial<DeviceAuthorization> = {}): DeviceAuthorization {
  return {
    id: hashToken(randomToken()),
    userCode: hashToken(randomToken()),
    clientId: 'kit-device-client',
    scope: ['read', 'write'],
    resources: ['https://api.example/'],
    expiresAt: nowSeconds() + 600,
    interval: 5,
    status: 'pending',
    ...over,
  };
}

/**
 * Register the {@link DeviceStore} contract as tests: round trip; a user code in use is
 * refused; only pending, unexpired requests are found by user code; `decide` is atomic and
 * uses the user code up; `poll` raises the interval by 5 on a too-early poll and keeps it;
 * `consume` is atomic and only for decided requests; odd values never throw.
 *
 * @example
 * ```ts
 * describeDeviceStore('myDeviceStore', { create: () => myDeviceStore(db) });
 * ```
 */
export function describeDeviceStore(name: string, harness: DeviceStoreHarness): void {
  const { describe, it } = testApi(harness, 'describeDeviceStore');
  if (typeof harness?.create !== 'function')
    throw new Error('describeDeviceStore(name, harness): harness needs create().');
  const store = once(() => harness.create());
  const peer = harness.peer ? once(() => (harness.peer as () => DeviceStore | Promise<DeviceStore>)()) : store;
  const n = harness.concurrency ?? 20;
  const both = async (): Promise<DeviceStore[]> => [await store(), await peer()];

  describe(`${name}: DeviceStore contract (tokengate/testing)`, () => {
    it('DeviceStore.create/findByUserCode — a pending request comes back as created; a user code in use is refused', async () => {
      const s = await store();
      const record = pending();
      await s.create(record);
      const r = rule('DeviceStore.findByUserCode', 'round trip');
      const found = await s.findByUserCode(record.userCode as string, nowSeconds());
      r.equal(
        found && { ...found, lastPolledAt: undefined },
        { ...record, lastPolledAt: undefined },
        'the request found by its user code',
      );
      let refused = false;
      await s.create(pending({ userCode: record.userCode })).catch(() => (refused = true));
      rule('DeviceStore.create', 'a user code in use is refused').check(
        refused,
        'create with a user code already in use must reject',
      );
      const odd = await s.findByUserCode("'; DROP TABLE x; --\u0000", nowSeconds()).catch((err: unknown) => err);
      rule('DeviceStore.findByUserCode', 'odd values').check(
        odd === undefined,
        `an odd user code must give undefined, got ${show(odd)}`,
      );
      const expired = pending({ expiresAt: nowSeconds() - 1 });
      await s.create(expired);
      rule('DeviceStore.findByUserCode', 'expired requests are not found').check(
        (await s.findByUserCode(expired.userCode as string, nowSeconds())) === undefined,
        'an expired request was found by its user code',
      );
    });

    it(`DeviceStore.decide — atomic: of ${n} concurrent decisions exactly one wins, and the user code is used up`, async () => {
      const stores = await both();
      const record = pending();
      await stores[0]!.create(record);
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          stores[i % 2]!.decide(
            record.userCode as string,
            i % 3 === 0 ? 'denied' : { userId: `user-${i}`, scope: ['read'] },
            nowSeconds(),
          ),
        ),
      );
      const winners = results.filter((x) => x !== undefined);
      rule('DeviceStore.decide', 'atomic').check(
        winners.length === 1,
        `${winners.length} of ${n} concurrent decide calls won; exactly one must`,
      );
      const r = rule('DeviceStore.decide', 'the user code is single use');
      r.check(
        (await stores[0]!.findByUserCode(record.userCode as string, nowSeconds())) === undefined,
        'a decided request is still found by its user code',
      );
      const winner = winners[0] as DeviceAuthorization;
      r.check(
        winner.status === 'denied' ||
          (winner.status === 'approved' && winner.userId !== undefined && winner.scope.join(' ') === 'read'),
        `the decided record is ${show(winner)}`,
      );
    });

    it('DeviceStore.poll — a poll sooner than the interval raises it by 5 seconds, for good (RFC 8628 §3.5)', async () => {
      const s = await store();
      const record = pending();
      await s.create(record);
      const r = rule('DeviceStore.poll', 'slow_down raises the interval');
      const t = Date.now();
      const first = await s.poll(record.id, t);
      r.check(
        first?.slowDown === false && first.record.interval === 5,
        `the first poll gave ${show(first)}; expected slowDown false, interval 5`,
      );
      const second = await s.poll(record.id, t + 1000);
      r.check(
        second?.slowDown === true && second.record.interval === 10,
        `a poll 1 s later gave ${show(second)}; expected slowDown true, interval 10`,
      );
      const third = await s.poll(record.id, t + 1000 + 6000);
      r.check(
        third?.slowDown === true && third.record.interval === 15,
        `a poll 6 s after that gave ${show(third)}; expected slowDown true (6 < 10), interval 15`,
      );
      const fourth = await s.poll(record.id, t + 7000 + 15_000);
      r.check(
        fourth?.slowDown === false && fourth.record.interval === 15,
        `a poll 15 s after that gave ${show(fourth)}; expected slowDown false, interval 15`,
      );
      rule('DeviceStore.poll', 'unknown ids').check(
        (await s.poll(hashToken(randomToken()), t)) === undefined,
        'polling an unknown id must give undefined',
      );
    });

    it(`DeviceStore.consume — only decided requests, and of ${n} concurrent consumes exactly one gets it`, async () => {
      const stores = await both();
      const record = pending();
      await stores[0]!.create(record);
      const r = rule('DeviceStore.consume', 'atomic single use');
      r.check((await stores[0]!.consume(record.id)) === undefined, 'a pending request was consumed');
      await stores[1]!.decide(record.userCode as string, { userId: 'kit-user', scope: ['read'] }, nowSeconds());
      const results = await Promise.all(Array.from({ length: n }, (_, i) => stores[i % 2]!.consume(record.id)));
      const got = results.filter((x) => x !== undefined);
      r.check(
        got.length === 1 && got[0]?.userId === 'kit-user' && got[0].status === 'approved',
        `${got.length} of ${n} concurrent consumes got the request (${show(got[0])}); exactly one must, approved for kit-user`,
      );
    });
  });
}
