-- ARGV: P, id. The answers of a task working again, once: taken away.
local k = P .. ':t:' .. ARGV[2]
if redis.call('HGET', k, 'status') ~= 'working' then return {} end
local answers = redis.call('HGETALL', k .. ':ans')
redis.call('DEL', k .. ':ans')
return answers
