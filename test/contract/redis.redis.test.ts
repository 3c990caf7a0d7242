/** On a real redis-server (or valkey-server) this file starts; in `npm run test:redis` only. */
import { startStoreBackend } from '../support/breaker/storeBackend';
import { describeStateStoreContract } from './stateStoreContract';

describeStateStoreContract('RedisStateStore', () => startStoreBackend('redis'));
