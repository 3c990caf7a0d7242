/** On dynalite in `npm test`; on DynamoDB Local in `npm run test:dynamodb-local` (DYNAMODB_BACKEND). */
import { dynamoBackendName } from '../support/dynamoBackend';
import { startStoreBackend } from '../support/breaker/storeBackend';
import { describeStateStoreContract } from './stateStoreContract';

describeStateStoreContract(`DynamoDBStateStore on ${dynamoBackendName()}`, () => startStoreBackend('dynamodb'));
