/**
 * The Lua scripts behind RedisStateStore: one per store operation, each run atomically by the server (no other
 * command runs while a script does), so a script's check and its writes are one step, like a DynamoDB conditional
 * UpdateItem. Each script answers `{applied (1|0), HGETALL}`: the hash as it now is, or as it was when the condition
 * failed, so a loser learns the winner's state without another round trip.
 *
 * Every script takes KEYS[1] = the circuit's hash and ARGV[1] = the request as JSON whose numbers are sent as
 * decimal strings (cjson would turn them into doubles and write 1.7e+12 back). A script validates everything it will
 * write before its first write: Redis does not roll a script back when a command in it fails.
 *
 * The guards are exactly DynamoDBStateStore's condition expressions (read the race comments there too).
 */
import { createHash } from 'node:crypto';

export interface RedisScript {
  name: string;
  source: string;
  sha1: string;
}

/** Shared helpers; `is_number` is redisItem.ts's NUMBER. */
const PRELUDE = `
local key = KEYS[1]
local r = cjson.decode(ARGV[1])
local function is_number(v)
  return type(v) == 'string' and (string.match(v, '^%-?%d+$') ~= nil or string.match(v, '^%-?%d+%.%d+$') ~= nil)
end
local function answer(applied)
  return { applied, redis.call('HGETALL', key) }
end
local function lease(field)
  local raw = redis.call('HGET', key, field)
  if not raw then return nil end
  local ok, value = pcall(cjson.decode, raw)
  if ok and type(value) == 'table' then return value end
  return false
end
local function holds(field, token)
  local held = lease(field)
  return held ~= nil and held ~= false and held.tok == token
end
local function version_is(v)
  local current = redis.call('HGET', key, 'version')
  return is_number(current) and tonumber(current) == tonumber(v)
end
local function must_be_integer_or_absent(field)
  local current = redis.call('HGET', key, field)
  if current and not string.match(current, '^%-?%d+$') then
    return redis.error_reply('ADD on ' .. field .. ': the field is not an integer (' .. string.sub(current, 1, 40) .. ')')
  end
  return nil
end
local function set_expiry(seconds, ms)
  if seconds then
    redis.call('HSET', key, 'expiresAt', seconds)
    redis.call('PEXPIREAT', key, ms)
  else
    redis.call('HDEL', key, 'expiresAt')
    redis.call('PERSIST', key)
  end
end
`;

const READ = `
return answer(0)
`;

const RECORD_COUNT = `
-- Race: a failure that lands after another instance opened the circuit must not count toward the next closed
-- period (the opening cleared the counters). Counting is allowed while closed or disabled, on a missing hash, and on
-- a hash whose state is not one of ours (treated as closed). OPEN/HALF_OPEN/FORCED_OPEN refuse it.
local state = redis.call('HGET', key, 'state')
if state == 'OPEN' or state == 'HALF_OPEN' or state == 'FORCED_OPEN' then return answer(0) end
if r.admittedVersion then
  -- Race: a call admitted while closed settles after the circuit opened and closed again (a new version); its outcome
  -- belongs to the period it was admitted in and must not count toward the new one. Every transition bumps the
  -- version, so "still at the admitted version" means "still in that period". 'none': no valid version yet (missing,
  -- not a number, or 0 as first created by a count).
  if r.admittedVersion == 'none' then
    local current = redis.call('HGET', key, 'version')
    if is_number(current) and tonumber(current) ~= 0 then return answer(0) end
  elseif not version_is(r.admittedVersion) then
    return answer(0)
  end
end
for _, pair in ipairs(r.increments) do
  local invalid = must_be_integer_or_absent(pair[1])
  if invalid then return invalid end
end
-- Race: two instances each reading 3 failures and writing 4 lose one. HINCRBY is atomic and creates a missing field.
for _, pair in ipairs(r.increments) do redis.call('HINCRBY', key, pair[1], pair[2]) end
-- The first write to a circuit creates it closed at version 0; HSETNX never overwrites a live state.
redis.call('HSETNX', key, 'state', 'CLOSED')
redis.call('HSETNX', key, 'version', '0')
redis.call('HSET', key, 'updatedAt', r.now)
-- Race: an expiry set here on a hash an operator disabled meanwhile is seen in the returned item and removed by the
-- breaker's next write (see CircuitBreaker.count); a condition on it would instead lose the count.
if r.expiresAt then
  redis.call('HSET', key, 'expiresAt', r.expiresAt)
  redis.call('PEXPIREAT', key, r.expiresAtMs)
end
-- Buckets that left the window go in the same step. A stale bucket another instance still adds to no longer counts.
for _, name in ipairs(r.stale) do redis.call('HDEL', key, name) end
return answer(1)
`;

const TRANSITION = `
-- Race: several instances decide the same transition at once (threshold reached, open period over, trial failed,
-- trial successes reached). Only the script whose guard still matches the version (and state) it saw applies; every
-- transition sets a new version, so the rest fail and get the winner's state. A hash without a valid version
-- (missing, or not a number) is guarded by exactly that, so only one repair or first transition wins.
local guard
if r.fromVersion == nil then
  guard = not is_number(redis.call('HGET', key, 'version'))
else
  guard = version_is(r.fromVersion) and (r.fromState == nil or redis.call('HGET', key, 'state') == r.fromState)
end
-- Race: a trial whose lease expired (a frozen container waking up) reports after another trial took its slot; its
-- stale verdict must not reopen the circuit, just as its late success does not count.
if guard and r.heldSlot then guard = holds(r.heldSlot, r.heldToken) end
if not guard then return answer(0) end
redis.call('HSET', key, 'state', r.to, 'version', r.version, 'backoffStep', r.backoffStep, 'trialSuccesses', '0', 'updatedAt', r.now)
if r.openUntil then redis.call('HSET', key, 'openUntil', r.openUntil) else redis.call('HDEL', key, 'openUntil') end
-- The opening's details for operators (openCalls only when the policy counts calls); a close removes them.
if r.opening then
  for _, pair in ipairs(r.opening) do redis.call('HSET', key, pair[1], pair[2]) end
  if #r.opening < 4 then redis.call('HDEL', key, 'openCalls') end
elseif r.to == 'CLOSED' then
  redis.call('HDEL', key, 'openedAt', 'openReason', 'openFailures', 'openCalls')
end
-- Every close records when it closed: the fleet's ramp-up runs from it. Other transitions leave it.
if r.closedAt then redis.call('HSET', key, 'closedAt', r.closedAt) end
for _, name in ipairs(r.remove) do redis.call('HDEL', key, name) end
-- The first prober's OPEN -> HALF_OPEN takes slot 0 in the same step: no moment in which another instance could see
-- HALF_OPEN with every slot free and start more trials than allowed.
if r.permitSlot then redis.call('HSET', key, r.permitSlot, r.permitLease) end
-- Overrides (no expiresAt) never expire: PERSIST drops the key's TTL with the field.
set_expiry(r.expiresAt, r.expiresAtMs)
return answer(1)
`;

const ACQUIRE_PERMIT = `
-- Race: many instances reach for trial permits at once. A slot is taken only if it is free or its lease expired (a
-- frozen or killed holder), and only in the half-open period the caller saw (the version), so a stale caller cannot
-- take a permit in a later half-open period, and no interleaving runs more than halfOpenMaxCalls trials.
if redis.call('HGET', key, 'state') ~= 'HALF_OPEN' or not version_is(r.version) then return answer(0) end
local held = lease(r.slot)
if held ~= nil and not (held ~= false and type(held.exp) == 'number' and held.exp < tonumber(r.now)) then return answer(0) end
redis.call('HSET', key, r.slot, r.lease)
return answer(1)
`;

const RELEASE_PERMIT = `
-- Race: our lease may have expired and the slot been taken by another trial; freeing it then would let one more
-- trial start than allowed. Only the token holder frees a slot.
if not holds(r.slot, r.token) then return answer(0) end
redis.call('HDEL', key, r.slot)
return answer(1)
`;

const RECORD_TRIAL_SUCCESS = `
-- Race: a success must count only toward the half-open period it was a trial of (the version) and only if its lease
-- was not given to someone else meanwhile (the token); a late success after a reopen must not close.
if redis.call('HGET', key, 'state') ~= 'HALF_OPEN' or not version_is(r.version) or not holds(r.slot, r.token) then return answer(0) end
local invalid = must_be_integer_or_absent('trialSuccesses')
if invalid then return invalid end
-- Race: concurrent trial successes must all count: HINCRBY, then whoever sees the threshold reached closes.
redis.call('HINCRBY', key, 'trialSuccesses', 1)
redis.call('HDEL', key, r.slot)
return answer(1)
`;

function script(name: string, body: string): RedisScript {
  const source = `-- circuit breaker: ${name}\n${PRELUDE}${body}`;
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  read: script('read', READ),
  recordCount: script('recordCount', RECORD_COUNT),
  transition: script('transition', TRANSITION),
  acquirePermit: script('acquirePermit', ACQUIRE_PERMIT),
  releasePermit: script('releasePermit', RELEASE_PERMIT),
  recordTrialSuccess: script('recordTrialSuccess', RECORD_TRIAL_SUCCESS),
} as const;
