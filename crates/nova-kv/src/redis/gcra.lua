-- GCRA rate limit check, atomic per key (see rate_limit.rs for the algorithm).
-- KEYS[1]: the key holding the TAT, in microseconds since the Unix epoch.
-- ARGV[1]: emission interval T (us); ARGV[2]: burst window limit*T (us); ARGV[3]: cost.
-- Returns {allowed (0/1), remaining, retry_after_us, reset_after_us}.
-- Time is the Redis server's, so application clocks do not matter.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])

local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then
  tat = now
end
local new_tat = tat + cost * interval

if new_tat - now > window then
  local remaining = math.max(0, math.floor((window - (tat - now)) / interval))
  return {0, remaining, new_tat - now - window, tat - now}
end

if cost > 0 then
  local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
  -- %d keeps all digits; tostring() would round the microseconds to 14 significant digits.
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
end
local remaining = math.max(0, math.floor((window - (new_tat - now)) / interval))
return {1, remaining, 0, new_tat - now}
