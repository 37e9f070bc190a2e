/**
 * Lua scripts of a task's children (see `orchestrator/task/task-children.ts`),
 * beside the run store's transition scripts (`run-scripts.ts`) and in
 * their style: a compare-and-set on the node that decides, with
 * everything that follows from it in the same step.
 *
 * Hash fields they add to a run: `c:<child>` (the child's spec: task,
 * number, batch, parameters — written once), `tn:<task>` (children created
 * so far). Children and joins are ordinary `n:` nodes, and a join's
 * `w:<join>` counts down like any node with several upstream nodes.
 */
import type { StoreScript } from './store-script.js';

export const expandTaskScript: StoreScript = {
  name: 'kilnExpandTask',
  keys: 2,
  lua: `
local function contains(list, value)
  if not list then return false end
  for _, item in ipairs(list) do if item == value then return true end end
  return false
end
--[[
  Creates a batch of a task's children with the change of the node that
  creates them (the task node starting, or the previous batch's join
  ending): all or nothing.
  Input:
    KEYS[1] run hash   KEYS[2] run event stream
    ARGV[1] JSON {
      runId, node, from: <node JSON it was computed from>, to: <node JSON>,
      runIn: [status...] (refuse unless the run is in one),
      terminal (bool: 'to' ends the node), task, count (children created),
      fields: [field, value, ...] (n:/c: of the children, n:/w: of the join),
      queued: [child...], pending: [child...],
      event: <node event JSON>, at, maxEvents }
  Output (JSON):
    {code: 'ok', status, left, children} children: the task's count after
    {code: 'moved', node: <stored node JSON>, status}
    {code: 'run', node, status} the run's status refuses the change
    {code: 'missing'}
]]
local p = cjson.decode(ARGV[1])
local nodeField = 'n:' .. p.node
local got = redis.call('HMGET', KEYS[1], 'status', nodeField, 'left')
if not got[1] or not got[2] then return cjson.encode({ code = 'missing' }) end
local status = cjson.decode(got[1])
if p.runIn and not contains(p.runIn, status) then
  return cjson.encode({ code = 'run', node = got[2], status = status })
end
if got[2] ~= p.from then
  return cjson.encode({ code = 'moved', node = got[2], status = status })
end
-- The children and the join are new: a field already there means the
-- batch exists (a retried call that lost its answer), never overwritten.
for i = 1, #p.fields, 2 do
  if string.sub(p.fields[i], 1, 2) == 'n:' and
      redis.call('HEXISTS', KEYS[1], p.fields[i]) == 1 then
    return cjson.encode({ code = 'moved', node = got[2], status = status })
  end
end
local left = (tonumber(got[3]) or 0) + p.count + 1
if p.terminal then left = left - 1 end
redis.call('HSET', KEYS[1], nodeField, p.to, 'left', left)
for from = 1, #p.fields, 1000 do
  redis.call('HSET', KEYS[1], unpack(p.fields, from, math.min(from + 999, #p.fields)))
end
local children = redis.call('HINCRBY', KEYS[1], 'tn:' .. p.task, p.count)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', p.maxEvents, '*', 'e', p.event)
if #p.queued > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', p.maxEvents, '*', 'e',
    cjson.encode({ kind = 'nodes', runId = p.runId, status = 'queued',
      nodes = p.queued, at = p.at }))
end
if #p.pending > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', p.maxEvents, '*', 'e',
    cjson.encode({ kind = 'nodes', runId = p.runId, status = 'pending',
      nodes = p.pending, at = p.at }))
end
return cjson.encode({ code = 'ok', status = status, left = left,
  children = children })
`,
};
