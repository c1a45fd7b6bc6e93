-- ARGV: P, id, kind, then per kind: `output` text cap; `progress`
-- message cap; `input` then key, request pairs; `end` status message
-- ending ttl max_kept. Returns 1 when the task changed, 0 when it had
-- already ended (or is gone).
local id, kind = ARGV[2], ARGV[3]
local k = P .. ':t:' .. id
local status = redis.call('HGET', k, 'status')
if not status then return -1 end
if kind == 'output' then
  append_out(id, ARGV[4], tonumber(ARGV[5]))
  return 0
end
if is_final(status) then return 0 end
local now = now_ms()
if kind == 'progress' then
  redis.call('HSET', k, 'message', ARGV[4], 'updated', now)
  append_out(id, '[progress] ' .. ARGV[4] .. '\n', tonumber(ARGV[5]))
elseif kind == 'input' then
  redis.call('DEL', k .. ':req', k .. ':ans')
  for i = 4, #ARGV, 2 do redis.call('HSET', k .. ':req', ARGV[i], ARGV[i + 1]) end
  redis.call('HSET', k, 'status', 'input_required', 'updated', now)
  redis.call('SADD', P .. ':waiting', id)
else
  finish(id, ARGV[4], ARGV[5], ARGV[6], now, tonumber(ARGV[7]), tonumber(ARGV[8]))
end
return 1
