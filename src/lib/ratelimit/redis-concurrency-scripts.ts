import { type RedisScript, redisScript } from './redis-script-runner.js';

/*
 * The scripts of RedisConcurrencyLimiter. Leases are read on Redis's clock (TIME), the one clock
 * every replica shares. A replica's lease is its score in the replicas sorted set; a lease at or
 * before now, or none at all, means the replica is gone and its fields count for nothing.
 */

const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: the key's hash, the replicas set. ARGV: replica id, limit, lease ms, hash expiry ms.
 * Drops the fields of replicas whose lease ran out, sums the rest and takes a slot when the sum is
 * under the limit. Returns 1 when taken, 0 when full. Whoever acquires is alive, so its own lease
 * is renewed on the way.
 */
const ACQUIRE = `${NOW}
local me = ARGV[1]
local limit = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), me)
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local id = fields[i]
  local held = tonumber(fields[i + 1])
  if id ~= me then
    local lease = redis.call('ZSCORE', KEYS[2], id)
    if not lease or tonumber(lease) <= now then
      redis.call('HDEL', KEYS[1], id)
      held = 0
    end
  end
  total = total + held
end
if total >= limit then return 0 end
redis.call('HINCRBY', KEYS[1], me, 1)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
`;

export const acquireScript: RedisScript = redisScript('concurrency acquire', ACQUIRE);

/** KEYS: the key's hash. ARGV: replica id. Gives one slot back; the field goes at zero, never below. */
export const releaseScript: RedisScript = redisScript(
  'concurrency release',
  `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
`,
);

/** KEYS: the key's hash, the replicas set. ARGV: replica id. Slots held by live replicas (and this one). */
export const countScript: RedisScript = redisScript(
  'concurrency count',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local id = fields[i]
  local live = id == ARGV[1]
  if not live then
    local lease = redis.call('ZSCORE', KEYS[2], id)
    live = lease and tonumber(lease) > now
  end
  if live then total = total + tonumber(fields[i + 1]) end
end
return total
`,
);

/**
 * KEYS: the replicas set, then hashes. ARGV: replica id, lease ms, hash expiry ms, then this
 * replica's exact count per hash. Renews the lease, forgets replicas whose lease ran out, and
 * writes the counts (removing the field at zero) with a fresh expiry, so Redis converges on the
 * replica's own truth after lost releases, a lapsed lease or a restarted, empty Redis.
 */
export const renewScript: RedisScript = redisScript(
  'concurrency renew',
  `${NOW}
local me = ARGV[1]
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), me)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ttl = tonumber(ARGV[3])
for i = 2, #KEYS do
  local n = tonumber(ARGV[i + 2])
  if n > 0 then
    redis.call('HSET', KEYS[i], me, n)
    redis.call('PEXPIRE', KEYS[i], ttl)
  else
    redis.call('HDEL', KEYS[i], me)
  end
end
return #KEYS - 1
`,
);

/** KEYS: the replicas set, then hashes. ARGV: replica id. Ends the lease and drops this replica's fields. */
export const giveBackScript: RedisScript = redisScript(
  'concurrency give back',
  `
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, #KEYS do redis.call('HDEL', KEYS[i], ARGV[1]) end
return #KEYS - 1
`,
);

/** Every script, for loading them up front. */
export const concurrencyScripts: readonly RedisScript[] = [
  acquireScript,
  releaseScript,
  countScript,
  renewScript,
  giveBackScript,
];

/**
 * The rate decision of `rate` and, when it allows, the slot of {@link acquireScript}, in one
 * script: one round trip per admitted connection instead of two. KEYS: the rate key, then the
 * acquire script's two. ARGV: how many arguments the rate script takes (n), its n arguments, then
 * the acquire script's. Returns the rate's retry ms when it refuses (no slot is asked), 0 when a
 * slot was taken, -1 when the cap refused (the rate counted the request, as when the two are asked
 * one after the other). Each part keeps its own KEYS and ARGV as function parameters.
 */
export function admissionScript(rate: RedisScript): RedisScript {
  let script = admissionScripts.get(rate.sha);
  if (script === undefined) {
    script = redisScript(
      `admission (${rate.name})`,
      `local function rate(KEYS, ARGV)
${rate.source}
end
local function acquire(KEYS, ARGV)
${ACQUIRE}
end
local n = tonumber(ARGV[1])
local rateArgs = {}
for i = 1, n do rateArgs[i] = ARGV[i + 1] end
local retry = rate({KEYS[1]}, rateArgs)
if retry ~= 0 then return retry end
local acquireArgs = {}
for i = n + 2, #ARGV do acquireArgs[#acquireArgs + 1] = ARGV[i] end
if acquire({KEYS[2], KEYS[3]}, acquireArgs) == 1 then return 0 end
return -1
`,
    );
    admissionScripts.set(rate.sha, script);
  }
  return script;
}

const admissionScripts = new Map<string, RedisScript>();
