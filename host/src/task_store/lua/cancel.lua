-- ARGV: P, id, owner, reason, ttl, max_kept, cap. Returns -1 (not this
-- owner's), 0 (already ended), 1 (cancelled now).
local id = ARGV[2]
local k = P .. ':t:' .. id
local fields = redis.call('HMGET', k, 'owner', 'status')
if fields[1] ~= ARGV[3] then return -1 end
if is_final(fields[2]) then return 0 end
finish(id, 'cancelled', ARGV[4], '', now_ms(), tonumber(ARGV[5]), tonumber(ARGV[6]))
append_out(id, '[cancelled] ' .. ARGV[4] .. '\n', tonumber(ARGV[7]))
return 1
