/**
 * The shared state as one DynamoDB item per circuit (partition key `keyAttr`, default `id` = circuit name).
 *
 * Rules every request here follows:
 * - Counts change only by ADD, never by read-modify-write (two containers reading 3 failures would both write 4).
 * - Every state change is an UpdateItem conditional on the version (and state) it leaves, so exactly one instance
 *   performs it; the others get ConditionalCheckFailed and learn the winner's state without a read: every conditional
 *   write sends ReturnValuesOnConditionCheckFailure: ALL_OLD, and DynamoDB (and DynamoDB Local) return the item with
 *   the exception. When the exception carries no item (dynalite ignores the parameter; a condition that failed on a
 *   missing item has none to return), the loser makes one consistent read instead.
 * - No request overwrites the whole item (each SETs, ADDs or REMOVEs only the attributes it owns), except a
 *   transition on an item too large to update, which replaces it whole under the same condition (rewriteWhole).
 * - Writes return ALL_NEW so the caller's cache is refreshed without another read.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  type DynamoDBClientConfig,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConditionalCheckFailedException,
} from '@aws-sdk/client-dynamodb';
import { convertToNative, marshall } from '@aws-sdk/util-dynamodb';
import { BreakerConfigError, StoreItemTooLargeError } from '../errors';
import { ATTR, parseItem, permitAttribute, UNREADABLE, type CircuitRecord } from '../state';
import type {
  AcquirePermitRequest,
  PermitRef,
  ReadOptions,
  RecordCountRequest,
  StateStore,
  StoreRequestOptions,
  TransitionRequest,
  VersionGuard,
  WriteOutcome,
} from './StateStore';

interface TableOptions {
  /**
   * The table holding one item per circuit. Constraints: 3-255 characters of `A-Z a-z 0-9 _ . -`.
   * @throws {BreakerConfigError} when it is not a valid table name.
   */
  tableName: string;
  /**
   * The table's partition (hash) key attribute: string-typed (`S`), holding the circuit's name. The table must have
   * no sort key. Constraints: 1-255 characters, and not one of the breaker's own attribute names (`state`, `version`,
   * `openUntil`, `backoffStep`, `trialSuccesses`, `updatedAt`, `expiresAt`, `p_<n>`, `f_<n>`, `s_<n>`).
   * @default 'id'
   */
  keyAttr?: string;
}

/**
 * Where the store's DynamoDB client comes from: your own `client` (you control retries, timeouts, tracing) or a
 * `clientConfig` the store builds one from; never both (a type error here, a `BreakerConfigError` at run time).
 * With neither, the store builds a client with `{ maxAttempts: 1 }`.
 */
export type DynamoDBStateStoreOptions = TableOptions &
  (
    | {
        /** The client to send requests with (e.g. one wrapped by X-Ray, or pointed at a local endpoint). */
        client: DynamoDBClient;
        clientConfig?: never;
      }
    | {
        client?: never;
        /**
         * Config for the client the store builds. `maxAttempts` defaults to 1 (the breaker retries within its own
         * budget, storeTimeoutMs x storeMaxAttempts; SDK retries inside that budget would only hide where time went).
         * @default { maxAttempts: 1 }
         */
        clientConfig?: DynamoDBClientConfig;
      }
  );

/** One update: expression parts plus the placeholders they use. */
interface Update {
  set: string[];
  add: string[];
  remove: string[];
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/**
 * The breaker's shared state in a DynamoDB table, one item per circuit, changed only by conditional writes.
 *
 * @example
 * const store = new DynamoDBStateStore({ tableName: 'CircuitBreakerState' });
 * const own = new DynamoDBStateStore({ tableName: 'Shared', keyAttr: 'pk', client: new DynamoDBClient({ maxAttempts: 1 }) });
 * const local = new DynamoDBStateStore({ tableName: 'State', clientConfig: { endpoint: 'http://127.0.0.1:8000', region: 'local' } });
 */
export class DynamoDBStateStore implements StateStore {
  readonly tableName: string;
  /** The table's partition key attribute. */
  readonly keyAttr: string;
  readonly client: DynamoDBClient;

  /** @throws {BreakerConfigError} naming `tableName`, `keyAttr`, `client` or `clientConfig` when one is invalid. */
  constructor(options: DynamoDBStateStoreOptions) {
    if (typeof options?.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new BreakerConfigError('tableName', `must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(options?.tableName)}`);
    }
    const keyAttr = options.keyAttr ?? ATTR.id;
    if (typeof keyAttr !== 'string' || keyAttr.length === 0 || keyAttr.length > 255 || isBreakerAttribute(keyAttr)) {
      throw new BreakerConfigError('keyAttr', `must be the table's partition key name (1-255 characters, not one of the breaker's attributes), got ${JSON.stringify(options.keyAttr)}`);
    }
    if (options.client !== undefined && options.clientConfig !== undefined) {
      throw new BreakerConfigError('clientConfig', 'cannot be given together with client: configure the client you pass instead');
    }
    if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
      throw new BreakerConfigError('client', 'must be a DynamoDBClient');
    }
    if (options.clientConfig !== undefined && (typeof options.clientConfig !== 'object' || options.clientConfig === null)) {
      throw new BreakerConfigError('clientConfig', 'must be a DynamoDBClientConfig object');
    }
    this.tableName = options.tableName;
    this.keyAttr = keyAttr;
    this.client = options.client ?? new DynamoDBClient({ maxAttempts: 1, ...options.clientConfig });
  }

  async read(circuit: string, options: ReadOptions): Promise<CircuitRecord> {
    const output = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [this.keyAttr]: { S: circuit } }, ConsistentRead: options.consistent ?? true }),
      { abortSignal: options.abortSignal },
    );
    return parseItem(circuit, toNative(output.Item));
  }

  async recordCount(circuit: string, request: RecordCountRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const update = newUpdate();
    // Race: a failure that lands after another instance opened the circuit must not count toward the next closed
    // period (the opening cleared the counters). Counting is allowed while closed or disabled, on a missing item, and
    // on an item whose state is not one of ours (treated as closed). OPEN/HALF_OPEN/FORCED_OPEN refuse it.
    update.condition = `(attribute_not_exists(${name(update, ATTR.state)}) OR NOT (${name(update, ATTR.state)} IN (${value(update, 'OPEN')}, ${value(update, 'HALF_OPEN')}, ${value(update, 'FORCED_OPEN')})))`;
    if (request.admittedVersion !== undefined) {
      // Race: a call admitted while closed settles after the circuit opened and closed again (a new version); its
      // outcome belongs to the period it was admitted in and must not count toward the new one. Every transition
      // bumps the version, so "still at the admitted version" means "still in that period".
      const version = name(update, ATTR.version);
      update.condition +=
        request.admittedVersion === null
          ? ` AND (attribute_not_exists(${version}) OR NOT attribute_type(${version}, ${value(update, 'N')}) OR ${version} = ${value(update, 0)})`
          : ` AND ${version} = ${value(update, request.admittedVersion)}`;
    }
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
    if (request.opening) {
      update.set.push(`${name(update, ATTR.openedAt)} = ${value(update, request.opening.openedAt)}`);
      update.set.push(`${name(update, ATTR.openReason)} = ${value(update, request.opening.openReason)}`);
      update.set.push(`${name(update, ATTR.openFailures)} = ${value(update, request.opening.openFailures)}`);
      if (request.opening.openCalls !== undefined) update.set.push(`${name(update, ATTR.openCalls)} = ${value(update, request.opening.openCalls)}`);
      else update.remove.push(name(update, ATTR.openCalls));
    } else if (request.to === 'CLOSED') {
      for (const attribute of [ATTR.openedAt, ATTR.openReason, ATTR.openFailures, ATTR.openCalls]) update.remove.push(name(update, attribute));
    }
    if (request.closedAt !== undefined) update.set.push(`${name(update, ATTR.closedAt)} = ${value(update, request.closedAt)}`);
    if (request.permit) {
      // The first prober's OPEN -> HALF_OPEN takes slot 0 in the same write: no window in which another instance
      // could see HALF_OPEN with every slot free and start more trials than allowed.
      update.set.push(`${name(update, permitAttribute(request.permit.slot))} = ${value(update, lease(request.permit.expiresAt, request.permit.token))}`);
    }
    const taken = request.permit ? permitAttribute(request.permit.slot) : undefined;
    for (const attribute of request.remove) if (attribute !== taken) update.remove.push(name(update, attribute));
    try {
      return await this.write(circuit, update, options);
    } catch (error) {
      if (!(error instanceof StoreItemTooLargeError)) throw error;
      return this.rewriteWhole(circuit, request, options);
    }
  }

  /**
   * A transition on an item too large to update (padded near 400 KB by something else): one PutItem that replaces
   * the whole item with the well-formed one the transition leaves, so item size can never disarm or wedge the
   * breaker. Everything else on the item goes (counts too, which OPEN, HALF_OPEN and CLOSED clear anyway).
   */
  private async rewriteWhole(circuit: string, request: TransitionRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const guard = newUpdate();
    // Race: the same as the update it replaces: only the instance whose guard (and held permit) still matches writes.
    guard.condition = guardCondition(guard, request.from);
    if (request.heldPermit) {
      guard.condition = `(${guard.condition}) AND ${name(guard, permitAttribute(request.heldPermit.slot))}.${name(guard, ATTR.permitToken)} = ${value(guard, request.heldPermit.token)}`;
    }
    const item: Record<string, unknown> = {
      [this.keyAttr]: circuit,
      [ATTR.state]: request.to,
      [ATTR.version]: request.version,
      [ATTR.backoffStep]: request.backoffStep,
      [ATTR.trialSuccesses]: 0,
      [ATTR.updatedAt]: request.now,
      ...(request.openUntil === undefined ? {} : { [ATTR.openUntil]: request.openUntil }),
      ...(request.expiresAt === undefined ? {} : { [ATTR.expiresAt]: request.expiresAt }),
      ...(request.opening
        ? {
            [ATTR.openedAt]: request.opening.openedAt,
            [ATTR.openReason]: request.opening.openReason,
            [ATTR.openFailures]: request.opening.openFailures,
            ...(request.opening.openCalls === undefined ? {} : { [ATTR.openCalls]: request.opening.openCalls }),
          }
        : {}),
      ...(request.closedAt === undefined ? {} : { [ATTR.closedAt]: request.closedAt }),
      ...(request.permit ? { [permitAttribute(request.permit.slot)]: lease(request.permit.expiresAt, request.permit.token) } : {}),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(item),
          ConditionExpression: guard.condition,
          ExpressionAttributeNames: guard.names,
          ...(Object.keys(guard.values).length > 0 ? { ExpressionAttributeValues: marshall(guard.values) } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: options.abortSignal },
      );
      return { applied: true, record: parseItem(circuit, item) };
    } catch (error) {
      if ((error as Error)?.name !== 'ConditionalCheckFailedException') throw error;
      const old = (error as ConditionalCheckFailedException).Item;
      return { applied: false, record: old ? parseItem(circuit, toNative(old)) : await this.read(circuit, options) };
    }
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
          Key: { [this.keyAttr]: { S: circuit } },
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
      if (isItemTooLarge(error)) throw new StoreItemTooLargeError(circuit, error);
      if ((error as Error)?.name !== 'ConditionalCheckFailedException') throw error;
      // The item as the failed condition saw it is the winner's state, as fresh as a consistent read would be.
      const item = (error as ConditionalCheckFailedException).Item;
      return { applied: false, record: item ? parseItem(circuit, toNative(item)) : await this.read(circuit, options) };
    }
  }
}

/** A key attribute that is also one the breaker writes would be overwritten by the breaker's own updates. */
function isBreakerAttribute(attribute: string): boolean {
  const own: readonly string[] = Object.values(ATTR).filter((name) => name !== ATTR.id);
  return own.includes(attribute) || /^[pfs]_\d+$/.test(attribute);
}

/** DynamoDB's answer to a write that would take the item past 400 KB. */
function isItemTooLarge(error: unknown): boolean {
  return (error as Error)?.name === 'ValidationException' && /item size/i.test((error as Error).message ?? '');
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
