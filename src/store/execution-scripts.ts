/**
 * Lua scripts of the execution store. Each opens with its KEYS, ARGV and
 * return values (BullMQ style): they are the contract with the TypeScript
 * that calls them.
 */
import type { StoreScript } from './store-script.js';

export const createExecutionScript: StoreScript = {
  name: 'kilnCreateExecution',
  keys: 5,
  lua: `
--[[
  Creates an execution record once, with its indexes.
  Input:
    KEYS[1] execution hash
    KEYS[2] all executions (zset by creation time)
    KEYS[3] executions of the repository (zset)
    KEYS[4] executions of the run (zset; untouched when ARGV[3] is '0')
    KEYS[5] counter -> id (hash)
    ARGV[1] execution id
    ARGV[2] counter field (JSON [repository, counter])
    ARGV[3] '1' when the execution belongs to a run
    ARGV[4..] field, JSON value, field, JSON value, ...
  Output:
    1 created; 0 the id existed (nothing changed)
  The score is Redis' TIME in microseconds, so skewed host clocks can't
  reorder the lists.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
local now = redis.call('TIME')
local score = now[1] .. string.format('%06d', tonumber(now[2]))
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('ZADD', KEYS[3], score, ARGV[1])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[4], score, ARGV[1]) end
redis.call('HSETNX', KEYS[5], ARGV[2], ARGV[1])
return 1
`,
};

export const updateExecutionScript: StoreScript = {
  name: 'kilnUpdateExecution',
  keys: 1,
  lua: `
--[[
  Patches fields of an execution, fenced by attempt.
  Input:
    KEYS[1] execution hash
    ARGV[1] writer's attempt, or '' for an unfenced write
    ARGV[2] n: number of fields to set
    ARGV[3 .. 2+2n] field, JSON value, ...
    ARGV[3+2n ..] fields to remove
  Output:
    1 applied; 0 no such execution; -1 stale (stored attempt is newer)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' then
  local stored = tonumber(redis.call('HGET', KEYS[1], 'attempt')) or 0
  if stored > tonumber(ARGV[1]) then return -1 end
end
local n = tonumber(ARGV[2])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + 2 * n)) end
for i = 3 + 2 * n, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return 1
`,
};

export const appendLogScript: StoreScript = {
  name: 'kilnAppendLog',
  keys: 1,
  lua: `
--[[
  Appends log lines to an execution's stream and trims it.
  Input:
    KEYS[1] log stream (entry id <seq>-1; fields t time, s stream, x text)
    ARGV[1] how many lines to keep (the newest)
    ARGV[2..] seq, time, stream, text, ... in ascending seq
  Output:
    number of lines added; lines whose seq is not above the last stored
    one are skipped, so a retried append never duplicates
]]
local last = -1
local tail = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if tail[1] then last = tonumber(string.match(tail[1][1], '^(%d+)')) end
local added = 0
for i = 2, #ARGV, 4 do
  local seq = tonumber(ARGV[i])
  if seq > last then
    redis.call('XADD', KEYS[1], ARGV[i] .. '-1',
      't', ARGV[i + 1], 's', ARGV[i + 2], 'x', ARGV[i + 3])
    last = seq
    added = added + 1
  end
end
if added > 0 then redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[1]) end
return added
`,
};

export const listIndexScript: StoreScript = {
  name: 'kilnListIndex',
  keys: 'dynamic',
  lua: `
--[[
  One page of the ids in every given index (an AND of filters).
  Input:
    KEYS[1] scratch key (deleted before returning)
    KEYS[2..] index zsets scored by creation time
    ARGV[1] first rank (0 = newest), ARGV[2] last rank (inclusive)
  Output:
    ids, newest first
]]
local args = { KEYS[1], #KEYS - 1 }
for i = 2, #KEYS do args[#args + 1] = KEYS[i] end
args[#args + 1] = 'AGGREGATE'
args[#args + 1] = 'MAX'
redis.call('ZINTERSTORE', unpack(args))
local ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2])
redis.call('DEL', KEYS[1])
return ids
`,
};
