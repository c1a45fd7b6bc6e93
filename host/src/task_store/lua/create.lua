-- ARGV: P, id, owner, tool, stateless, session, ttl, poll, max_tasks,
-- max_per_owner. Returns `{'ok', now}`, `{'too_many'}` or
-- `{'too_many_for_client'}`.
local id, owner = ARGV[2], ARGV[3]
if redis.call('ZCARD', P .. ':running') >= tonumber(ARGV[9]) then return {'too_many'} end
if redis.call('ZCARD', P .. ':running:' .. owner) >= tonumber(ARGV[10]) then
  return {'too_many_for_client'}
end
local now = now_ms()
local seq = redis.call('INCR', P .. ':seq')
local k = P .. ':t:' .. id
redis.call('HSET', k, 'owner', owner, 'tool', ARGV[4], 'stateless', ARGV[5], 'status', 'working',
  'created', now, 'updated', now, 'ttl', ARGV[7], 'poll', ARGV[8], 'seq', seq)
if ARGV[6] ~= '' then redis.call('HSET', k, 'session', ARGV[6]) end
redis.call('ZADD', P .. ':running', now + tonumber(ARGV[11]), id)
redis.call('ZADD', P .. ':running:' .. owner, 0, id)
redis.call('ZADD', P .. ':owner:' .. owner, seq, id)
return {'ok', tostring(now)}
