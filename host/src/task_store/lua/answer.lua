-- ARGV: P, id, owner, then key, response pairs. Returns -1 (not this
-- owner's), 0 (nothing answered), 1 (some answered), 2 (all answered:
-- working again).
local id = ARGV[2]
local k = P .. ':t:' .. id
local fields = redis.call('HMGET', k, 'owner', 'status')
if fields[1] ~= ARGV[3] then return -1 end
if fields[2] ~= 'input_required' then return 0 end
local answered = 0
for i = 4, #ARGV, 2 do
  if redis.call('HDEL', k .. ':req', ARGV[i]) == 1 then
    redis.call('HSET', k .. ':ans', ARGV[i], ARGV[i + 1])
    answered = 1
  end
end
if answered == 0 then return 0 end
redis.call('HSET', k, 'updated', now_ms())
if redis.call('HLEN', k .. ':req') > 0 then return 1 end
redis.call('HSET', k, 'status', 'working')
redis.call('SREM', P .. ':waiting', id)
return 2
