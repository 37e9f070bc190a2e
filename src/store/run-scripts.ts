/**
 * Lua scripts of the run store. Each opens with its KEYS, ARGV and return
 * values (BullMQ style).
 */
import type { StoreScript } from './store-script.js';

export const createRunScript: StoreScript = {
  name: 'kilnCreateRun',
  keys: 7,
  lua: `
--[[
  Creates a run record once, with its indexes.
  Input:
    KEYS[1] run hash
    KEYS[2] all runs (zset by creation time)
    KEYS[3] runs of the repository
    KEYS[4] runs of the ref (untouched when ARGV[3] is '0')
    KEYS[5] runs of the commit
    KEYS[6] runs of the status
    KEYS[7] active runs of (repository, ref, name)
    ARGV[1] run id
    ARGV[2] '1' when the status is active (added to KEYS[7])
    ARGV[3] '1' when the run has a ref
    ARGV[4..] field, JSON value, ...
  Output:
    1 created; 0 the id existed (nothing changed)
  The score is Redis' TIME in microseconds (skewed host clocks can't
  reorder the lists).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
local now = redis.call('TIME')
local score = now[1] .. string.format('%06d', tonumber(now[2]))
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('ZADD', KEYS[3], score, ARGV[1])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[4], score, ARGV[1]) end
redis.call('ZADD', KEYS[5], score, ARGV[1])
redis.call('ZADD', KEYS[6], score, ARGV[1])
if ARGV[2] == '1' then redis.call('ZADD', KEYS[7], score, ARGV[1]) end
return 1
`,
};

export const updateRunScript: StoreScript = {
  name: 'kilnUpdateRun',
  keys: 3,
  lua: `
--[[
  Patches fields of a run and moves it between status indexes.
  Input:
    KEYS[1] run hash
    KEYS[2] all runs (zset; gives the run's score)
    KEYS[3] active runs of the run's (repository, ref, name)
    ARGV[1] run id
    ARGV[2] key prefix of the status indexes (status appended)
    ARGV[3] new status, or '' when the patch doesn't change it
    ARGV[4] '1' when the new status is active
    ARGV[5] n: number of fields to set
    ARGV[6 .. 5+2n] field, JSON value, ...
    ARGV[6+2n ..] fields to remove
  Output:
    {0} no such run; {1, HGETALL of the run after the patch}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0 } end
if ARGV[3] ~= '' then
  local score = redis.call('ZSCORE', KEYS[2], ARGV[1]) or '0'
  local old = redis.call('HGET', KEYS[1], 'status')
  local oldStatus = old and string.match(old, '^"(.*)"$')
  if oldStatus then redis.call('ZREM', ARGV[2] .. oldStatus, ARGV[1]) end
  redis.call('ZADD', ARGV[2] .. ARGV[3], score, ARGV[1])
  if ARGV[4] == '1' then
    redis.call('ZADD', KEYS[3], score, ARGV[1])
  else
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
end
local n = tonumber(ARGV[5])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 6, 5 + 2 * n)) end
for i = 6 + 2 * n, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return { 1, redis.call('HGETALL', KEYS[1]) }
`,
};

export const updateRunNodeScript: StoreScript = {
  name: 'kilnUpdateRunNode',
  keys: 1,
  lua: `
--[[
  Read-modify-write of one node of a run, fenced by attempt.
  Input:
    KEYS[1] run hash (field 'nodes' holds the JSON array of nodes)
    ARGV[1] node name
    ARGV[2] writer's attempt, or '' for an unfenced write
    ARGV[3] JSON object: node fields to set
    ARGV[4] JSON array: node fields to remove
  Output:
    {0} no such run; {-2} no such node (or the nodes field is damaged);
    {-1, HGETALL} stale (the node holds a newer attempt), nothing changed;
    {1, HGETALL} applied
  Nodes hold strings and small integers: cjson re-encodes them exactly.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0 } end
local ok, nodes = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'nodes') or '[]')
if not ok or type(nodes) ~= 'table' then return { -2 } end
local found = nil
for _, node in ipairs(nodes) do
  if type(node) == 'table' and node.name == ARGV[1] then
    found = node
    break
  end
end
if not found then return { -2 } end
if ARGV[2] ~= '' then
  local stored = tonumber(found.attempt) or 0
  if stored > tonumber(ARGV[2]) then
    return { -1, redis.call('HGETALL', KEYS[1]) }
  end
end
for field, value in pairs(cjson.decode(ARGV[3])) do found[field] = value end
for _, field in ipairs(cjson.decode(ARGV[4])) do found[field] = nil end
redis.call('HSET', KEYS[1], 'nodes', cjson.encode(nodes))
return { 1, redis.call('HGETALL', KEYS[1]) }
`,
};
