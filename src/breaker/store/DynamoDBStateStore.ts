/**
 * The shared state as one DynamoDB item per circuit (hash key `id` = circuit name).
 *
 * Rules every request here follows:
 * - Counts change only by ADD, never by read-modify-write (two containers reading 3 failures would both write 4).
 * - Every state change is an UpdateItem conditional on the version (and state) it leaves, so exactly one instance
 *   performs it; the others get ConditionalCheckFailed and learn the winner's state without a read: every conditional
 *   write sends ReturnValuesOnConditionCheckFailure: ALL_OLD, and DynamoDB (and DynamoDB Local) return the item with
 *   the exception. When the exception carries no item (dynalite ignores the parameter; a condition that failed on a
 *   missing item has none to return), the loser makes one consistent read instead.
 * - No request overwrites the whole item: each SETs, ADDs or REMOVEs only the attributes it owns.
 * - Writes return ALL_NEW so the caller's cache is refreshed without another read.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConditionalCheckFailedException,
} from '@aws-sdk/client-dynamodb';
import { convertToNative, marshall } from '@aws-sdk/util-dynamodb';
import { BreakerConfigError } from '../errors';
import { ATTR, parseItem, permitAttribute, UNREADABLE, type CircuitRecord } from '../state';
import {
  OPEN_DETAILS,
  type AcquirePermitRequest,
  type ReadOptions,
  type PermitRef,
  type RecordCountRequest,
  type StateStore,
  type StoreRequestOptions,
  type TransitionRequest,
  type VersionGuard,
  type WriteOutcome,
} from './StateStore';

export interface DynamoDBStateStoreOptions {
  tableName: string;
  /**
   * The client to use. When absent one is made with `maxAttempts: 1`: the breaker retries within its own budget
   * (storeTimeoutMs x storeMaxAttempts), and SDK retries inside that budget would only hide where time went.
   */
  client?: DynamoDBClient;
}

/** One update: expression parts plus the placeholders they use. */
interface Update {
  set: string[];
  add: string[];
  remove: string[];
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

export class DynamoDBStateStore implements StateStore {
  readonly tableName: string;
  readonly client: DynamoDBClient;

  constructor(options: DynamoDBStateStoreOptions) {
    if (typeof options?.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new BreakerConfigError('tableName', `must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(options?.tableName)}`);
    }
    if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
      throw new BreakerConfigError('client', 'must be a DynamoDBClient');
    }
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient({ maxAttempts: 1 });
  }

  async read(circuit: string, options: ReadOptions): Promise<CircuitRecord> {
    const output = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { id: { S: circuit } }, ConsistentRead: options.consistent !== false }),
      { abortSignal: options.abortSignal },
    );
    return parseItem(circuit, toNative(output.Item));
  }

  async recordCount(circuit: string, request: RecordCountRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const update = newUpdate();
    // Race: a failure that lands after another instance opened the circuit must not count toward the next closed
    // period (the opening cleared the counters). Counting is allowed while closed or disabled, on a missing item, and
    // on an item whose state is not one of ours (treated as closed). OPEN/HALF_OPEN/FORCED_OPEN refuse it.
    update.condition = `attribute_not_exists(${name(update, ATTR.state)}) OR NOT (${name(update, ATTR.state)} IN (${value(update, 'OPEN')}, ${value(update, 'HALF_OPEN')}, ${value(update, 'FORCED_OPEN')}))`;
    // Race: two instances each reading 3 failures and writing 4 lose one. ADD is atomic, and works on a missing item
    // or attribute (a top-level one; a nested map path would fail when the map does not exist yet).
    for (const [counter, amount] of Object.entries(request.increments)) update.add.push(`${name(update, counter)} ${value(update, amount)}`);
    // The first write to a circuit creates it closed at version 0; if_not_exists never overwrites a live state.
    update.set.push(`${name(update, ATTR.state)} = if_not_exists(${name(update, ATTR.state)}, ${value(update, 'CLOSED')})`);
    update.set.push(`${name(update, ATTR.version)} = if_not_exists(${name(update, ATTR.version)}, ${value(update, 0)})`);
    update.set.push(`${name(update, ATTR.updatedAt)} = ${value(update, request.now)}`);
    // Race: an expiry set here on an item an operator disabled meanwhile is seen in the returned item and removed by
    // the breaker's next write (see CircuitBreaker.count); a condition on it would instead lose the count.
    if (request.expiresAt !== undefined) update.set.push(`${name(update, ATTR.expiresAt)} = ${value(update, request.expiresAt)}`);
    // Buckets that left the window go in the same write (other paths than the ADD, so no conflict). A stale bucket
    // another instance still adds to would by definition no longer count.
    for (const counter of request.staleCounters) if (!(counter in request.increments)) update.remove.push(name(update, counter));
    return this.write(circuit, update, options);
  }

  async transition(circuit: string, request: TransitionRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const update = newUpdate();
    // Race: several instances decide the same transition at once (threshold reached, open period over, trial failed,
    // trial successes reached). Only the write whose guard still matches the version (and state) it saw applies;
    // every transition sets a new version, so the rest fail and read the winner's state. An item without a valid
    // version (missing or malformed) is guarded by exactly that, so only one repair or first transition wins.
    update.condition = guardCondition(update, request.from);
    if (request.heldPermit) {
      // Race: a trial whose lease expired (a frozen container waking up) reports after another trial took its slot;
      // its stale verdict must not reopen the circuit, just as its late success does not count.
      update.condition = `(${update.condition}) AND ${name(update, permitAttribute(request.heldPermit.slot))}.${name(update, ATTR.permitToken)} = ${value(update, request.heldPermit.token)}`;
    }
    update.set.push(`${name(update, ATTR.state)} = ${value(update, request.to)}`);
    update.set.push(`${name(update, ATTR.version)} = ${value(update, request.version)}`);
    update.set.push(`${name(update, ATTR.backoffStep)} = ${value(update, request.backoffStep)}`);
    update.set.push(`${name(update, ATTR.trialSuccesses)} = ${value(update, 0)}`);
    update.set.push(`${name(update, ATTR.updatedAt)} = ${value(update, request.now)}`);
    if (request.openUntil !== undefined) update.set.push(`${name(update, ATTR.openUntil)} = ${value(update, request.openUntil)}`);
    else update.remove.push(name(update, ATTR.openUntil));
    if (request.expiresAt !== undefined) update.set.push(`${name(update, ATTR.expiresAt)} = ${value(update, request.expiresAt)}`);
    else update.remove.push(name(update, ATTR.expiresAt));
    for (const attribute of OPEN_DETAILS) {
      const detail = request[attribute];
      if (detail !== undefined) update.set.push(`${name(update, attribute)} = ${value(update, detail)}`);
    }
    if (request.permit) {
      // The first prober's OPEN -> HALF_OPEN takes slot 0 in the same write: no window in which another instance
      // could see HALF_OPEN with every slot free and start more trials than allowed.
      update.set.push(`${name(update, permitAttribute(request.permit.slot))} = ${value(update, lease(request.permit.expiresAt, request.permit.token))}`);
    }
    const taken = request.permit ? permitAttribute(request.permit.slot) : undefined;
    for (const attribute of request.remove) if (attribute !== taken) update.remove.push(name(update, attribute));
    return this.write(circuit, update, options);
  }

  async acquirePermit(circuit: string, request: AcquirePermitRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const update = newUpdate();
    const slot = name(update, permitAttribute(request.permit.slot));
    // Race: many instances reach for trial permits at once. A slot is taken only if it is free or its lease expired
    // (a frozen or killed holder), and only in the half-open period the caller saw (the version), so a stale caller
    // cannot take a permit in a later half-open period, and no interleaving runs more than halfOpenMaxCalls trials.
    update.condition =
      `${name(update, ATTR.state)} = ${value(update, 'HALF_OPEN')} AND ${name(update, ATTR.version)} = ${value(update, request.version)}` +
      ` AND (attribute_not_exists(${slot}) OR ${slot}.${name(update, ATTR.permitExpiry)} < ${value(update, request.now)})`;
    update.set.push(`${slot} = ${value(update, lease(request.permit.expiresAt, request.permit.token))}`);
    return this.write(circuit, update, options);
  }

  async releasePermit(circuit: string, permit: PermitRef, options: StoreRequestOptions): Promise<WriteOutcome> {
    const update = newUpdate();
    const slot = name(update, permitAttribute(permit.slot));
    // Race: our lease may have expired and the slot been taken by another trial; freeing it then would let one more
    // trial start than allowed. Only the token holder frees a slot.
    update.condition = `${slot}.${name(update, ATTR.permitToken)} = ${value(update, permit.token)}`;
    update.remove.push(slot);
    return this.write(circuit, update, options);
  }

  async recordTrialSuccess(circuit: string, permit: PermitRef, options: StoreRequestOptions): Promise<WriteOutcome> {
    const update = newUpdate();
    const slot = name(update, permitAttribute(permit.slot));
    // Race: a success must count only toward the half-open period it was a trial of (the version) and only if its
    // lease was not given to someone else meanwhile (the token); a late success after a reopen must not close.
    update.condition =
      `${name(update, ATTR.state)} = ${value(update, 'HALF_OPEN')} AND ${name(update, ATTR.version)} = ${value(update, permit.version)}` +
      ` AND ${slot}.${name(update, ATTR.permitToken)} = ${value(update, permit.token)}`;
    // Race: concurrent trial successes must all count: ADD, then whoever sees the threshold reached closes.
    update.add.push(`${name(update, ATTR.trialSuccesses)} ${value(update, 1)}`);
    update.remove.push(slot);
    return this.write(circuit, update, options);
  }

  private async write(circuit: string, update: Update, options: StoreRequestOptions): Promise<WriteOutcome> {
    const clauses = [
      update.set.length > 0 ? `SET ${update.set.join(', ')}` : '',
      update.add.length > 0 ? `ADD ${update.add.join(', ')}` : '',
      update.remove.length > 0 ? `REMOVE ${update.remove.join(', ')}` : '',
    ].filter(Boolean);
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { id: { S: circuit } },
          UpdateExpression: clauses.join(' '),
          ConditionExpression: update.condition,
          ExpressionAttributeNames: update.names,
          ExpressionAttributeValues: marshall(update.values),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: options.abortSignal },
      );
      return { applied: true, record: parseItem(circuit, toNative(output.Attributes)) };
    } catch (error) {
      if ((error as Error)?.name !== 'ConditionalCheckFailedException') throw error;
      // The item as the failed condition saw it is the winner's state, as fresh as a consistent read would be.
      const item = (error as ConditionalCheckFailedException).Item;
      return { applied: false, record: item ? parseItem(circuit, toNative(item)) : await this.read(circuit, options) };
    }
  }
}

function newUpdate(): Update {
  return { set: [], add: [], remove: [], condition: '', names: {}, values: {} };
}

/** A placeholder for an attribute name (every name goes through one: `state` is a reserved word). */
function name(update: Update, attribute: string): string {
  for (const [placeholder, existing] of Object.entries(update.names)) if (existing === attribute) return placeholder;
  const placeholder = `#n${Object.keys(update.names).length}`;
  update.names[placeholder] = attribute;
  return placeholder;
}

function value(update: Update, native: unknown): string {
  const placeholder = `:v${Object.keys(update.values).length}`;
  update.values[placeholder] = native;
  return placeholder;
}

function guardCondition(update: Update, guard: VersionGuard): string {
  const version = name(update, ATTR.version);
  if (guard.version === null) return `attribute_not_exists(${version}) OR NOT attribute_type(${version}, ${value(update, 'N')})`;
  const versionMatches = `${version} = ${value(update, guard.version)}`;
  return guard.state === undefined ? versionMatches : `${versionMatches} AND ${name(update, ATTR.state)} = ${value(update, guard.state)}`;
}

function lease(expiresAt: number, token: string): Record<string, unknown> {
  return { [ATTR.permitExpiry]: expiresAt, [ATTR.permitToken]: token };
}

/** Decode each attribute on its own, so one undecodable value marks that attribute, not the whole read, as bad. */
function toNative(item: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined {
  if (item === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [attribute, raw] of Object.entries(item)) {
    try {
      out[attribute] = convertToNative(raw);
    } catch {
      out[attribute] = UNREADABLE;
    }
  }
  return out;
}
