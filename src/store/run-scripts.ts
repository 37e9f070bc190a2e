/**
 * Lua scripts of the run store: the only code that writes run and node
 * state. Each is a compare-and-set: it checks that what it changes is still
 * the state its caller computed the change from (the pure machines in
 * `orchestrator/`), applies everything at once, and appends the events.
 * Each opens with its KEYS, ARGV and results (BullMQ style).
 *
 * Run hash fields hold JSON: header fields (`status`, `repository`, …),
 * `n:<node>` (a node's state), `w:<node>` (upstream nodes a multi-upstream
 * node still waits for), `left` (nodes not yet terminal), `failed` and
 * `stopped` (terminal nodes that decide the run's final status).
 */
import type { StoreScript } from './store-script.js';

/** Shared helpers, prepended to each script. */
const HELPERS = `
local function contains(list, value)
  if not list then return false end
  for _, item in ipairs(list) do if item == value then return true end end
  return false
end
local function num(text) return tonumber(text) or 0 end
local function xadd(key, maxlen, json)
  return redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'e', json)
end
-- Moves the run between status indexes (and out of the active set).
local function moveStatus(p, old, new)
  if old == new then return end
  local score = redis.call('ZSCORE', p.runsKey, p.runId) or '0'
  redis.call('ZREM', p.statusPrefix .. old, p.runId)
  redis.call('ZADD', p.statusPrefix .. new, score, p.runId)
  if not contains(p.active, new) then redis.call('ZREM', p.activeKey, p.runId) end
end
-- A stream id '<ms>-<seq>' as a microsecond-scale score (the indexes'
-- unit since schema 1), without a TIME call.
local function scoreOf(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)')
  return ms .. string.format('%03d', tonumber(seq) % 1000)
end
-- Sets the n:<node> fields whose stored node is still pending to their new
-- JSON (appended to sets), names them in taken; returns how many.
local function takePending(key, fields, values, sets, taken)
  local count = 0
  for from = 1, #fields, 500 do
    local upto = math.min(from + 499, #fields)
    local states = redis.call('HMGET', key, unpack(fields, from, upto))
    for i, text in ipairs(states) do
      if text and string.find(text, '"status":"pending"', 1, true) then
        local k = from + i - 1
        sets[#sets + 1] = fields[k]
        sets[#sets + 1] = values[k]
        taken[#taken + 1] = string.sub(fields[k], 3)
        count = count + 1
      end
    end
  end
  return count
end
local function runEvent(p, status, reason)
  local event = { kind = 'run', runId = p.runId, status = status,
    repository = p.repository, name = p.name, counter = p.counter, at = p.at }
  if p.ref then event.ref = p.ref end
  if reason then event.reason = reason end
  return cjson.encode(event)
end
`;

export const createRunScript: StoreScript = {
  name: 'kilnCreateRun2',
  keys: 3,
  lua: `${HELPERS}
--[[
  Creates a run once: header, nodes, counters, indexes, first events.
  Input:
    KEYS[1] run hash
    KEYS[2] run event stream
    KEYS[3] global event stream
    ARGV[1] JSON {
      runId, fields: [field, json, ...] (header and n:/w: fields),
      indexes: [zset, ...] (runs, of repository, of ref, of commit, of status),
      activeKey, active (bool), left, status, reason,
      repository, ref, name, counter, at,
      queued: [node, ...], skipped: [node, ...], maxEvents, maxGlobal }
  Output:
    1 created; 0 the id existed (nothing changed)
  The index score comes from the stream id (Redis' clock, so skewed host
  clocks can't reorder the lists).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local p = cjson.decode(ARGV[1])
redis.call('HSET', KEYS[1], 'left', p.left, 'failed', 0, 'stopped', 0,
  'schema', 2, unpack(p.fields))
local id = xadd(KEYS[2], p.maxEvents, runEvent(p, p.status, p.reason))
xadd(KEYS[3], p.maxGlobal, runEvent(p, p.status, p.reason))
local score = scoreOf(id)
for _, index in ipairs(p.indexes) do redis.call('ZADD', index, score, p.runId) end
if p.active then redis.call('ZADD', p.activeKey, score, p.runId) end
if #p.queued > 0 then
  xadd(KEYS[2], p.maxEvents, cjson.encode({ kind = 'nodes', runId = p.runId,
    status = 'queued', nodes = p.queued, at = p.at }))
end
if #p.skipped > 0 then
  xadd(KEYS[2], p.maxEvents, cjson.encode({ kind = 'nodes', runId = p.runId,
    status = 'skipped', nodes = p.skipped, at = p.at }))
end
return 1
`,
};

export const applyNodeScript: StoreScript = {
  name: 'kilnApplyNode2',
  keys: 10,
  lua: `${HELPERS}
--[[
  One node's transition: compare-and-set of the node, with what follows
  from it in the same step — successors released (queued) or blocked
  (skipped), the run started, the execution record created or closed, the
  last output lines, the reuse index, stop requests and events.
  Long texts travel as ARGV of their own, never inside the head's JSON, so
  nothing is encoded twice (this runs twice per step: it is the hot path).
  Input:
    KEYS[1] run hash          KEYS[2] run event stream
    KEYS[3] execution hash    KEYS[4] all executions (zset by time)
    KEYS[5] executions of the repository (zset by counter)
    KEYS[6] execution counters (hash by repository)
    KEYS[7] execution log stream   KEYS[8] execution metrics list
    KEYS[9] reuse key         KEYS[10] control stream
    ARGV[1] head JSON {
      node, terminal (bool), tally ('failed' | 'stopped' | nil),
      runIn: [status...] (refuse unless the run is in one),
      start: {from: [status...], to, at} and ctx (the run's identity and
        index keys, only with start: the one way this changes its status),
      release, block, execFields, logs, metrics: counts of the ARGV
        sections below, exec: 'create' | 'update' | nil, execId,
      execGuard (update only an existing record), repository,
      others: [[execution key, field, json, ...], ...] (existing only),
      maxLog, maxMetrics, reuse (execution id),
      datums: [[datum key, JSON, alias key | nil, datum id], ...],
      stop: [json, ...], runId, at, maxEvents }
    ARGV[2] the node JSON the change was computed from
    ARGV[3] the new node JSON    ARGV[4] the node event JSON
    then, in order: release × (node, waits, queued JSON); block × (node,
    skipped JSON); execFields × (field, JSON); logs × (seq, time, stream,
    text); metrics × (JSON)
  Output (JSON):
    {code: 'ok', status, left, failed, stopped, queued: [...], skipped: [...], counter}
    {code: 'moved', node: <stored node JSON>, status} the node changed since
    {code: 'run', node, status} the run's status refuses the change
    {code: 'missing'} no such run or node
]]
local p = cjson.decode(ARGV[1])
local nodeField = 'n:' .. p.node
local got = redis.call('HMGET', KEYS[1], 'status', nodeField, 'left', 'failed', 'stopped')
if not got[1] or not got[2] then return cjson.encode({ code = 'missing' }) end
local status = cjson.decode(got[1])
if p.runIn and not contains(p.runIn, status) then
  return cjson.encode({ code = 'run', node = got[2], status = status })
end
-- Node JSON is canonical (encode-node.ts): equal text, equal state.
if got[2] ~= ARGV[2] then
  return cjson.encode({ code = 'moved', node = got[2], status = status })
end
local left, failed, stopped = num(got[3]), num(got[4]), num(got[5])
local sets = { nodeField, ARGV[3] }
if p.terminal then left = left - 1 end
if p.tally == 'failed' then failed = failed + 1 end
if p.tally == 'stopped' then stopped = stopped + 1 end

local newStatus = status
if p.start and contains(p.start.from, status) then
  newStatus = p.start.to
  sets[#sets + 1] = 'status'
  sets[#sets + 1] = cjson.encode(newStatus)
  sets[#sets + 1] = 'startedAt'
  sets[#sets + 1] = cjson.encode(p.start.at)
end

-- Successors: one upstream releases at once, several count down.
local a = 5
local queued, skipped = {}, {}
local candidates, queuedJson = {}, {}
for _ = 1, p.release do
  local name, waits = ARGV[a], tonumber(ARGV[a + 1])
  local ready = true
  if waits > 1 then
    ready = redis.call('HINCRBY', KEYS[1], 'w:' .. name, -1) <= 0
  end
  if ready then
    candidates[#candidates + 1] = 'n:' .. name
    queuedJson[#candidates] = ARGV[a + 2]
  end
  a = a + 3
end
takePending(KEYS[1], candidates, queuedJson, sets, queued)
local blockFields, blockJson = {}, {}
for _ = 1, p.block do
  blockFields[#blockFields + 1] = 'n:' .. ARGV[a]
  blockJson[#blockFields] = ARGV[a + 1]
  a = a + 2
end
left = left - takePending(KEYS[1], blockFields, blockJson, sets, skipped)
sets[#sets + 1] = 'left'
sets[#sets + 1] = left
if p.tally then
  sets[#sets + 1] = 'failed'
  sets[#sets + 1] = failed
  sets[#sets + 1] = 'stopped'
  sets[#sets + 1] = stopped
end
for from = 1, #sets, 1000 do
  redis.call('HSET', KEYS[1], unpack(sets, from, math.min(from + 999, #sets)))
end

local eventId = xadd(KEYS[2], p.maxEvents, ARGV[4])
if #queued > 0 then
  xadd(KEYS[2], p.maxEvents, cjson.encode({ kind = 'nodes', runId = p.runId,
    status = 'queued', nodes = queued, at = p.at }))
end
if #skipped > 0 then
  xadd(KEYS[2], p.maxEvents, cjson.encode({ kind = 'nodes', runId = p.runId,
    status = 'skipped', nodes = skipped, at = p.at }))
end
if newStatus ~= status then
  moveStatus(p.ctx, status, newStatus)
  local json = runEvent(p.ctx, newStatus, nil)
  xadd(KEYS[2], p.maxEvents, json)
  xadd(p.ctx.globalKey, p.ctx.maxGlobal, json)
end

local counter = nil
local execFrom, execTo = a, a + p.execFields - 1
a = a + p.execFields
if p.exec == 'create' then
  counter = redis.call('HINCRBY', KEYS[6], p.repository, 1)
  redis.call('HSET', KEYS[3], 'counter', counter, unpack(ARGV, execFrom, execTo))
  redis.call('ZADD', KEYS[4], scoreOf(eventId), p.execId)
  redis.call('ZADD', KEYS[5], counter, p.execId)
elseif p.exec == 'update' then
  if not p.execGuard or redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('HSET', KEYS[3], unpack(ARGV, execFrom, execTo))
  end
end
for _, exec in ipairs(p.others or {}) do
  if redis.call('EXISTS', exec[1]) == 1 then
    redis.call('HSET', exec[1], unpack(exec, 2))
  end
end
for _ = 1, p.logs do
  -- An id not above the last stored line is a retried append: skipped.
  redis.pcall('XADD', KEYS[7], 'MAXLEN', '~', p.maxLog, ARGV[a] .. '-1',
    't', ARGV[a + 1], 's', ARGV[a + 2], 'x', ARGV[a + 3])
  a = a + 4
end
if p.metrics > 0 then
  local length = 0
  for from = a, a + p.metrics - 1, 1000 do
    length = redis.call('RPUSH', KEYS[8],
      unpack(ARGV, from, math.min(from + 999, a + p.metrics - 1)))
  end
  if length > p.maxMetrics then redis.call('LTRIM', KEYS[8], -p.maxMetrics, -1) end
end
if p.reuse then redis.call('SET', KEYS[9], p.reuse) end
for _, datum in ipairs(p.datums or {}) do
  redis.call('SET', datum[1], datum[2], 'NX')
  if datum[3] then redis.call('SET', datum[3], datum[4]) end
end
for _, message in ipairs(p.stop or {}) do xadd(KEYS[10], 10000, message) end
return cjson.encode({ code = 'ok', status = newStatus, left = left,
  failed = failed, stopped = stopped, queued = queued, skipped = skipped,
  counter = counter })
`,
};

export const applyRunScript: StoreScript = {
  name: 'kilnApplyRun',
  keys: 3,
  lua: `${HELPERS}
--[[
  A run's transition: compare-and-set of its status and of any number of
  nodes, all or nothing (cancel, supersede, fail, approve, finish).
  Input:
    KEYS[1] run hash   KEYS[2] run event stream   KEYS[3] control stream
    ARGV[1] JSON {
      runId, from (the run's status), to (new status or nil),
      fields: [field, json, ...], remove: [field, ...] (run header),
      nodes: [[node, from JSON, to JSON,
               terminal (bool), tally ('failed' | 'stopped' | nil)], ...],
      execs: [[execution key, field, json, ...], ...] (existing records only),
      stop: [json, ...], events: [json, ...], reason,
      statusPrefix, runsKey, activeKey, active: [status...], globalKey,
      repository, ref, name, counter, at, maxEvents, maxGlobal }
  Output (JSON):
    {code: 'ok', status, left}
    {code: 'moved', status} the run or one of the nodes changed since
    {code: 'missing'}
]]
local p = cjson.decode(ARGV[1])
local head = redis.call('HMGET', KEYS[1], 'status', 'left', 'failed', 'stopped')
if not head[1] then return cjson.encode({ code = 'missing' }) end
local status = cjson.decode(head[1])
if status ~= p.from then return cjson.encode({ code = 'moved', status = status }) end
local fields = {}
for i, node in ipairs(p.nodes) do fields[i] = 'n:' .. node[1] end
local stored = {}
for from = 1, #fields, 500 do
  local part = redis.call('HMGET', KEYS[1], unpack(fields, from, math.min(from + 499, #fields)))
  for i, text in ipairs(part) do stored[from + i - 1] = text end
end
for i, node in ipairs(p.nodes) do
  if stored[i] ~= node[2] then
    return cjson.encode({ code = 'moved', status = status })
  end
end
local left, failed, stopped = num(head[2]), num(head[3]), num(head[4])
local sets = {}
for _, node in ipairs(p.nodes) do
  sets[#sets + 1] = 'n:' .. node[1]
  sets[#sets + 1] = node[3]
  if node[4] then left = left - 1 end
  if node[5] == 'failed' then failed = failed + 1 end
  if node[5] == 'stopped' then stopped = stopped + 1 end
end
for i = 1, #p.fields do sets[#sets + 1] = p.fields[i] end
sets[#sets + 1] = 'left'
sets[#sets + 1] = left
sets[#sets + 1] = 'failed'
sets[#sets + 1] = failed
sets[#sets + 1] = 'stopped'
sets[#sets + 1] = stopped
local newStatus = p.to or status
if p.to then
  sets[#sets + 1] = 'status'
  sets[#sets + 1] = cjson.encode(p.to)
end
for from = 1, #sets, 1000 do
  redis.call('HSET', KEYS[1], unpack(sets, from, math.min(from + 999, #sets)))
end
if #p.remove > 0 then redis.call('HDEL', KEYS[1], unpack(p.remove)) end
for _, exec in ipairs(p.execs) do
  if redis.call('EXISTS', exec[1]) == 1 then
    redis.call('HSET', exec[1], unpack(exec, 2))
  end
end
for _, message in ipairs(p.stop) do xadd(KEYS[3], 10000, message) end
for _, event in ipairs(p.events) do xadd(KEYS[2], p.maxEvents, event) end
if newStatus ~= status then
  moveStatus(p, status, newStatus)
  local json = runEvent(p, newStatus, p.reason)
  xadd(KEYS[2], p.maxEvents, json)
  xadd(p.globalKey, p.maxGlobal, json)
end
return cjson.encode({ code = 'ok', status = newStatus, left = left })
`,
};
