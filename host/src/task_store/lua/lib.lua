-- Shared by every script: Redis's clock in ms, ending a task, dropping one.
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function is_final(status)
  return status == 'completed' or status == 'failed' or status == 'cancelled'
end
local function drop(id)
  local k = P .. ':t:' .. id
  local owner = redis.call('HGET', k, 'owner')
  if owner then
    redis.call('ZREM', P .. ':owner:' .. owner, id)
    redis.call('ZREM', P .. ':running:' .. owner, id)
  end
  redis.call('ZREM', P .. ':running', id)
  redis.call('SREM', P .. ':waiting', id)
  redis.call('DEL', k, k .. ':out', k .. ':req', k .. ':ans')
end
local function append_out(id, text, cap)
  local k = P .. ':t:' .. id .. ':out'
  local len = redis.call('APPEND', k, text)
  if len > cap then
    local kept = redis.call('GETRANGE', k, len - cap, -1)
    local nl = string.find(kept, '\n', 1, true)
    if nl then kept = string.sub(kept, nl + 1) end
    redis.call('SET', k, kept)
  end
end
local function finish(id, status, message, ending, now, ttl, max_kept)
  local k = P .. ':t:' .. id
  local owner = redis.call('HGET', k, 'owner')
  redis.call('HSET', k, 'status', status, 'updated', now)
  if message ~= '' then redis.call('HSET', k, 'message', message) end
  if ending ~= '' then redis.call('HSET', k, 'end', ending) end
  redis.call('DEL', k .. ':req', k .. ':ans')
  redis.call('ZREM', P .. ':running', id)
  if owner then redis.call('ZREM', P .. ':running:' .. owner, id) end
  redis.call('SREM', P .. ':waiting', id)
  -- A safety net: the sweep drops it at its TTL; this, if no replica runs.
  redis.call('PEXPIRE', k, ttl + 60000)
  redis.call('PEXPIRE', k .. ':out', ttl + 60000)
  redis.call('ZADD', P .. ':done:' .. status, now, id)
  local kinds = {'completed', 'failed', 'cancelled'}
  local kept = 0
  for _, s in ipairs(kinds) do kept = kept + redis.call('ZCARD', P .. ':done:' .. s) end
  while kept > max_kept do
    local oldest, oldest_at = nil, nil
    for _, s in ipairs(kinds) do
      local first = redis.call('ZRANGE', P .. ':done:' .. s, 0, 0, 'WITHSCORES')
      if first[1] and (oldest_at == nil or tonumber(first[2]) < oldest_at) then
        oldest, oldest_at = s, tonumber(first[2])
      end
    end
    if not oldest then break end
    local popped = redis.call('ZPOPMIN', P .. ':done:' .. oldest)
    drop(popped[1])
    kept = kept - 1
  end
end
