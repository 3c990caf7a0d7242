/**
 * What losing a race costs in DynamoDB requests, on each backend. Every loser's conditional UpdateItem fails; it then
 * learns the winner's state from the item returned with the failure (dynamodb-local, as DynamoDB does: no read) or
 * from one consistent GetItem (dynalite, which ignores ReturnValuesOnConditionCheckFailure). Either way the state it
 * learns is exactly what a read made afterwards returns.
 */
import { DynamoDBStateStore, type CircuitRecord } from '../../../src/breaker';
import { startBreakerTable, type BreakerTable } from '../../support/breaker/breakerTable';
import { countCommands } from '../../support/breaker/commandCounter';
import { dynamoBackendName } from '../../support/dynamoBackend';

const backend = dynamoBackendName();
/** The requests one lost conditional write costs on an existing item. */
const LOST_RACE_COST = { 'dynamodb-local': { UpdateItem: 1 }, dynalite: { UpdateItem: 1, GetItem: 1 } }[backend];
const NOW = 1_700_000_000_000;

let table: BreakerTable;
let circuitSeq = 0;

beforeAll(async () => {
  table = await startBreakerTable();
});
afterAll(async () => {
  await table?.stop();
});

/** One container's store, on its own client, whose requests are counted. */
function instance() {
  const client = table.newClient();
  return { store: new DynamoDBStateStore({ tableName: table.tableName, client }), requests: countCommands(client) };
}

const budget = () => ({ abortSignal: AbortSignal.timeout(10_000) });

/** A closed circuit at version 0 with one failure counted. */
async function closedCircuit(): Promise<string> {
  const circuit = `race-${++circuitSeq}`;
  await instance().store.recordCount(circuit, { increments: { [`f_${NOW}`]: 1 }, staleCounters: [], now: NOW }, budget());
  return circuit;
}

const open = { from: { version: 0, state: 'CLOSED' as const }, to: 'OPEN' as const, version: 1, openUntil: NOW + 60_000, backoffStep: 0, remove: [`f_${NOW}`], now: NOW };

async function stateNow(circuit: string): Promise<CircuitRecord> {
  return instance().store.read(circuit, budget());
}

test(`${backend}: 10 instances open the circuit at once; one applies, each loser pays ${JSON.stringify(LOST_RACE_COST)}`, async () => {
  const circuit = await closedCircuit();
  const fleet = Array.from({ length: 10 }, instance);
  const outcomes = await Promise.all(fleet.map(({ store }) => store.transition(circuit, open, budget())));
  expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(1);
  const final = await stateNow(circuit);
  expect(final).toMatchObject({ state: 'OPEN', version: 1, openUntil: NOW + 60_000, counters: {} });
  fleet.forEach(({ requests }, i) => {
    if (outcomes[i].applied) return;
    expect(requests.counts()).toEqual(LOST_RACE_COST);
    expect(outcomes[i].record).toEqual(final);
  });
});

test(`${backend}: a permit slot another instance holds: the loser learns the holder at ${JSON.stringify(LOST_RACE_COST)}`, async () => {
  const circuit = await closedCircuit();
  const [winner, loser] = [instance(), instance()];
  const halfOpen = { ...open, to: 'HALF_OPEN' as const, openUntil: undefined, permit: { slot: 0, token: 'winner', expiresAt: NOW + 5_000 } };
  expect((await winner.store.transition(circuit, halfOpen, budget())).applied).toBe(true);
  const lost = await loser.store.acquirePermit(circuit, { version: 1, permit: { slot: 0, token: 'loser', expiresAt: NOW + 5_000 }, now: NOW }, budget());
  expect(lost.applied).toBe(false);
  expect(lost.record.permits).toEqual([{ slot: 0, token: 'winner', expiresAt: NOW + 5_000 }]);
  expect(lost.record).toEqual(await stateNow(circuit));
  expect(loser.requests.counts()).toEqual(LOST_RACE_COST);
});

test(`${backend}: a failure refused because the circuit opened meanwhile costs ${JSON.stringify(LOST_RACE_COST)}`, async () => {
  const circuit = await closedCircuit();
  await instance().store.transition(circuit, open, budget());
  const late = instance();
  const refused = await late.store.recordCount(circuit, { increments: { [`f_${NOW}`]: 1 }, staleCounters: [], now: NOW }, budget());
  expect(refused).toMatchObject({ applied: false, record: { state: 'OPEN', version: 1, counters: {} } });
  expect(late.requests.counts()).toEqual(LOST_RACE_COST);
});

test(`${backend}: a condition that fails on a missing item has no item to return: one read on either backend`, async () => {
  const releaser = instance();
  const outcome = await releaser.store.releasePermit('never-written', { version: 1, slot: 0, token: 'gone' }, budget());
  expect(outcome).toMatchObject({ applied: false, record: { exists: false, state: 'CLOSED', version: null } });
  expect(releaser.requests.counts()).toEqual({ UpdateItem: 1, GetItem: 1 });
});
