/**
 * The DeviceStore contract kit (`tokengate/testing`) on the memory store, redisDeviceStore
 * on a real redis-server and postgresDeviceStore on a real PostgreSQL (two instances each).
 */
import { describeDeviceStore } from '../../src/testing';
import { describeBackends } from '../support/token-backends';

describeBackends('device store', __filename, (backend) => {
  const shared = backend().name !== 'memory';
  describeDeviceStore(`${backend().name} device store`, {
    create: () => backend().devices(),
    ...(shared && { peer: () => backend().devices() }),
  });
});
