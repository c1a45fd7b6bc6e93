-- ARGV: P, ttl, max_kept, lease, lost message, lost error, then the ids
-- this replica runs. Renews their leases, ends the tasks whose runner
-- stopped renewing, drops finished tasks past their TTL. Returns
-- `{working, input_required, completed, failed, cancelled, dropped, lost ids...}`.
local now = now_ms()
local ttl, max_kept, lease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 7, #ARGV do redis.call('ZADD', P .. ':running', 'XX', now + lease, ARGV[i]) end
local lost = redis.call('ZRANGEBYSCORE', P .. ':running', '-inf', now)
for _, id in ipairs(lost) do
  local status = redis.call('HGET', P .. ':t:' .. id, 'status')
  if status and not is_final(status) then
    finish(id, 'failed', ARGV[5], ARGV[6], now, ttl, max_kept)
  else
    redis.call('ZREM', P .. ':running', id)
  end
end
local dropped = 0
for _, s in ipairs({'completed', 'failed', 'cancelled'}) do
  local expired = redis.call('ZRANGEBYSCORE', P .. ':done:' .. s, '-inf', now - ttl)
  for _, id in ipairs(expired) do drop(id) end
  dropped = dropped + #expired
  redis.call('ZREMRANGEBYSCORE', P .. ':done:' .. s, '-inf', now - ttl)
end
local running = redis.call('ZCARD', P .. ':running')
local waiting = redis.call('SCARD', P .. ':waiting')
local counts = {math.max(0, running - waiting), waiting,
  redis.call('ZCARD', P .. ':done:completed'), redis.call('ZCARD', P .. ':done:failed'),
  redis.call('ZCARD', P .. ':done:cancelled'), dropped}
for _, id in ipairs(lost) do table.insert(counts, id) end
return counts
