import { type RedisScript, redisScript } from './redis-script-runner.js';

/*
 * One Lua script per rate-limit algorithm, each deciding one request atomically with exactly the
 * math of its TypeScript `...Take` and `...IdleAt` functions (Lua numbers are doubles, as are JS
 * numbers, and every expression keeps the TypeScript's order of operations), so a key decides the
 * same in Redis as in a MemoryStore.
 *
 * KEYS[1]  the key's state: its float64 values as one string, each written with '%.17g' (which
 *          round-trips a double; Lua's tostring keeps only 14 digits)
 * ARGV[1]  now in ms (may be fractional), or '' to read Redis's own clock with TIME, so replicas
 *          whose clocks disagree still decide on one time line
 * ARGV[2]  whole ms added to every expiry (see RedisStore's callerClockSkew)
 * ARGV[3…] the algorithm's numbers, passed in rather than baked in, so one script serves every limit
 *
 * Returns 0 when the request is allowed (and counted), else whole ms until a retry can succeed.
 * The key expires when its state decides like a fresh key's again (the `...IdleAt` time, rounded
 * up to whole ms, at least 1), and is deleted at once when it already does.
 */

const PRELUDE = `
local key = KEYS[1]
local now
if ARGV[1] == '' then
  -- TIME makes the script non-deterministic: replicate its writes, not the script (Redis < 5)
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local margin = tonumber(ARGV[2])
local s = {}
local stored = redis.call('GET', key)
if stored then
  for v in string.gmatch(stored, '%S+') do s[#s + 1] = tonumber(v) end
end
local retry
local idle
`;

const EPILOGUE = `
if idle <= now then
  redis.call('DEL', key)
else
  local ttl = math.ceil(idle - now)
  if ttl < 1 then ttl = 1 end
  local parts = {}
  for i = 1, #s do parts[i] = string.format('%.17g', s[i]) end
  redis.call('SET', key, table.concat(parts, ' '), 'PX', ttl + margin)
end
return retry
`;

// windowStart() of fixed-window.ts
const WINDOW_START = `
local function windowStart(t, window)
  local start = math.floor(t / window) * window
  if start > t then return start - window end
  return start
end
`;

const FIXED_WINDOW = `
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
if #s ~= 2 then s = {0, 0} end
local start = windowStart(now, window)
local into = now - start
if s[1] ~= start then
  s[1] = start
  s[2] = 0
end
local count = s[2]
if count < limit then
  s[2] = count + 1
  retry = 0
else
  retry = math.ceil(window - into)
end
if s[2] > 0 then idle = s[1] + window else idle = -math.huge end
`;

const TOKEN_BUCKET = `
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local SLACK = 1e-9
if #s ~= 2 then s = {burst, now} end
local tokens = s[1]
local last = s[2]
if now > last then
  tokens = tokens + ((now - last) * limit) / window
  if tokens > burst then tokens = burst end
  s[2] = now
end
if tokens >= 1 - SLACK then
  if tokens > 1 then s[1] = tokens - 1 else s[1] = 0 end
  retry = 0
else
  s[1] = tokens
  retry = math.ceil(((1 - SLACK / 2 - tokens) * window) / limit)
end
idle = s[2] + ((burst - s[1]) * window) / limit
`;

const SLIDING_WINDOW = `
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
if #s ~= 3 then s = {0, 0, 0} end
local start = windowStart(now, window)
local into = now - start
local prev = s[2]
local curr = s[3]
if s[1] ~= start then
  if start - s[1] == window then prev = curr else prev = 0 end
  curr = 0
  s[1] = start
  s[2] = prev
  s[3] = 0
end
local left = window - into
local room = limit - 1 - curr
if prev * left <= room * window then
  s[3] = curr + 1
  retry = 0
elseif room >= 0 then
  retry = math.ceil(left - (room * window) / prev)
else
  retry = math.ceil(left + window - ((limit - 1) * window) / curr)
end
if s[3] > 0 then
  idle = s[1] + 2 * window
elseif s[2] > 0 then
  idle = s[1] + window
else
  idle = -math.huge
end
`;

const GCRA = `
local interval = tonumber(ARGV[3])
local tolerance = tonumber(ARGV[4])
if #s ~= 1 then s = {now} end
local tat = math.max(s[1], now)
local ahead = tat - now
if ahead > tolerance then
  retry = math.ceil(ahead - tolerance)
else
  s[1] = tat + interval
  retry = 0
end
idle = s[1]
`;

function rateScript(name: string, body: string): RedisScript {
  return redisScript(`${name} decision`, `${WINDOW_START}${PRELUDE}${body}${EPILOGUE}`);
}

/** The decision script of each algorithm with one, by registry name. */
export const rateLimitScripts: ReadonlyMap<string, RedisScript> = new Map([
  ['fixed-window', rateScript('fixed-window', FIXED_WINDOW)],
  ['token-bucket', rateScript('token-bucket', TOKEN_BUCKET)],
  ['sliding-window', rateScript('sliding-window', SLIDING_WINDOW)],
  ['gcra', rateScript('gcra', GCRA)],
]);
