import { startStoreBackend } from '../support/breaker/storeBackend';
import { describeStateStoreContract } from './stateStoreContract';

describeStateStoreContract('MemoryStateStore', () => startStoreBackend('memory'));
