/**
 * Lua scripts of the execution store. Each opens with its KEYS, ARGV and
 * return values (BullMQ style): they are the contract with the TypeScript
 * that calls them.
 */
import type { StoreScript } from './store-script.js';

export const createExecutionScript: StoreScript = {
  name: 'kilnCreateExecution2',
  keys: 4,
  lua: `
--[[
  Creates an execution record once, with its counter and indexes (the
  executions of runs are created by the run store's node transitions).
  Input:
    KEYS[1] execution hash
    KEYS[2] all executions (zset by creation time)
    KEYS[3] executions of the repository (zset by counter)
    KEYS[4] execution counters (hash by repository)
    ARGV[1] execution id
    ARGV[2] repository
    ARGV[3..] field, JSON value, field, JSON value, ...
  Output:
    the counter when created; 0 when the id existed (nothing changed)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local counter = redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
redis.call('HSET', KEYS[1], 'counter', counter, unpack(ARGV, 3))
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], now[1] .. string.format('%06d', tonumber(now[2])), ARGV[1])
redis.call('ZADD', KEYS[3], counter, ARGV[1])
return counter
`,
};

export const appendOutputScript: StoreScript = {
  name: 'kilnAppendOutput',
  keys: 2,
  lua: `
--[[
  Appends a running execution's output: log lines to its stream (keeping
  about the newest ARGV[1]) and metrics events to its list (keeping the
  newest ARGV[2]), in one call.
  Input:
    KEYS[1] log stream (entry id <seq>-1; fields t time, s stream, x text)
    KEYS[2] metrics list (JSON events)
    ARGV[1] lines kept, ARGV[2] events kept, ARGV[3] n: number of lines
    ARGV[4 .. 3+4n] seq, time, stream, text, ... in ascending seq
    ARGV[4+4n ..] metrics events
  Output:
    number of lines added; a line whose seq is not above the last stored
    one is refused by XADD, so a retried append never duplicates
]]
local n = tonumber(ARGV[3])
local added = 0
for i = 4, 3 + 4 * n, 4 do
  local ok = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ARGV[i] .. '-1',
    't', ARGV[i + 1], 's', ARGV[i + 2], 'x', ARGV[i + 3])
  if type(ok) ~= 'table' or not ok.err then added = added + 1 end
end
if #ARGV >= 4 + 4 * n then
  if redis.call('RPUSH', KEYS[2], unpack(ARGV, 4 + 4 * n)) > tonumber(ARGV[2]) then
    redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
  end
end
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
    KEYS[2..] index zsets scored alike (by creation time)
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
