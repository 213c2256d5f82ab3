//! The Lua scripts of the Redis budget store. Each runs atomically in Redis and reads the
//! time from Redis itself (`TIME`), so every replica puts a charge in the same slot
//! whatever its own clock says (a replica whose clock jumps back changes nothing).
//!
//! Per budget, two keys: `…:spend`, a hash of slot number → nano-dollars charged in it
//! (slots of 15 minutes for a day, an hour for 30 days, as in process), expiring a period
//! after its last charge; `…:holds`, a sorted set of the holds of calls in flight
//! (`id:nanos`, scored by when the hold lapses if its process never releases it).

/// Charges ARGV[3] nano-dollars to the current slot. ARGV: slot ms, slots per period, nanos.
pub(super) const CHARGE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot_ms = tonumber(ARGV[1])
redis.call('HINCRBY', KEYS[1], math.floor(now / slot_ms), ARGV[3])
redis.call('PEXPIRE', KEYS[1], (tonumber(ARGV[2]) + 1) * slot_ms)
return 1
"#;

/// The period's spend, in nano-dollars. ARGV: slot ms, slots per period.
pub(super) const SPENT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = math.floor(now / tonumber(ARGV[1])) - tonumber(ARGV[2]) + 1
local spent = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i]) >= oldest then spent = spent + tonumber(all[i + 1]) end
end
return tostring(spent)
"#;

/// Holds ARGV[4] nano-dollars if the period's spend, the live holds and it fit within
/// ARGV[3]. ARGV: slot ms, slots per period, limit, nanos, hold id, hold lifetime ms.
/// Returns {1, spent + held} when held, {0, spent + held, retry ms or -1} when not.
pub(super) const RESERVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot_ms = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local oldest = math.floor(now / slot_ms) - n + 1
local spent = 0
local slots = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local slot = tonumber(all[i])
  if slot < oldest then
    redis.call('HDEL', KEYS[1], all[i])
  else
    local v = tonumber(all[i + 1])
    spent = spent + v
    table.insert(slots, {slot, v})
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local held = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  held = held + tonumber(string.match(member, ':(%d+)$'))
end
local limit = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
if spent + held + amount > limit then
  local allowed = limit - held - amount
  local retry = -1
  if allowed >= 0 then
    table.sort(slots, function(a, b) return a[1] < b[1] end)
    local total = spent
    for _, sv in ipairs(slots) do
      total = total - sv[2]
      if total <= allowed then
        retry = (sv[1] + n) * slot_ms - now
        break
      end
    end
  end
  return {0, tostring(spent + held), retry}
end
local lifetime = tonumber(ARGV[6])
redis.call('ZADD', KEYS[2], now + lifetime, ARGV[5] .. ':' .. ARGV[4])
redis.call('PEXPIRE', KEYS[2], lifetime * 2)
return {1, tostring(spent + held)}
"#;
