-- ARGV: P, id. Drops a task answered inline before anyone saw it.
local id = ARGV[2]
local status = redis.call('HGET', P .. ':t:' .. id, 'status')
if status and is_final(status) then
  for _, s in ipairs({'completed', 'failed', 'cancelled'}) do
    redis.call('ZREM', P .. ':done:' .. s, id)
  end
end
drop(id)
return 1
