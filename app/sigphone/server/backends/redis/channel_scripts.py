"""Lua scripts of cluster-wide channels: one history (a Redis stream) per channel.

Keys of a channel, ``b = sig:ch:{app} {name}``:

- ``b:log`` the stream of its events (join, leave, message, attribute), trimmed to about
  ``history`` entries; an entry's id is the event's offset, and ``b:s`` field ``epoch`` names
  this history (a Redis that lost its data starts a new epoch: offsets of the old one are void);
- ``b:m`` sorted set of members by join number, ``b:mn`` hash member -> node;
- ``b:n`` hash node -> members there (the nodes each event is published to);
- ``b:a`` hash of attributes; ``b:s`` hash epoch, total joins, and ``creator`` while the
  channel counts against the quota of the account ("" the app) that created it from outside;
- ``b:r`` hash of the channel's rate budgets (token buckets: ``sm`` _sendmsg_limit, ``lg``
  the large-channel rate, ``sa`` _setattr_limit), one budget for every node.

Quotas of channels created from outside (core/quotas.py): ``sig:qc:{app}`` and
``sig:qc:{app} {creator}`` sorted sets of channel names, scored by when the channel expires
(ms): counting drops the expired ones first, and a channel leaves them when it gets a member.

Every change and its event are one atomic step, and the event is published, in history order,
to ``sig:node:{node}`` of every node with members as ``c\\napp\\nname\\noffset\\nquiet\\njson``.
When the last member leaves, the keys expire after the channel's ``_channel_ttl``.
"""

from __future__ import annotations

__all__ = ["ATTR", "JOIN", "LEAVE", "POST", "READ", "REFRESH", "SUFFIXES", "channel_key"]

SUFFIXES = (":log", ":m", ":mn", ":n", ":a", ":s", ":r")


def channel_key(app: str, name: str) -> str:
    return f"sig:ch:{app} {name}"


#: Shared head: ARGV[1] base, ARGV[2] app, ARGV[3] name, ARGV[4] history length.
_HEAD = """
local b, app, name, hist = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function emit(payload, quiet)
  local id = redis.call('XADD', b .. ':log', 'MAXLEN', '~', hist, '*', 'd', payload, 'q', quiet)
  local nodes = redis.call('HKEYS', b .. ':n')
  for i = 1, #nodes do
    redis.call('PUBLISH', 'sig:node:' .. nodes[i],
      'c\\n' .. app .. '\\n' .. name .. '\\n' .. id .. '\\n' .. quiet .. '\\n' .. payload)
  end
  return id
end
local function quiet()
  if redis.call('HGET', b .. ':a', '_userNotification') == '0' then return '1' end
  return '0'
end
local function last_id()
  local last = redis.call('XREVRANGE', b .. ':log', '+', '-', 'COUNT', 1)
  if last[1] then return last[1][1] end
  return '0-0'
end
local function persist()
  for _, suffix in ipairs({':log', ':m', ':mn', ':n', ':a', ':s', ':r'}) do
    redis.call('PERSIST', b .. suffix)
  end
end
local function expire_if_empty(default_ttl)
  if redis.call('ZCARD', b .. ':m') > 0 then return end
  local ttl = tonumber(redis.call('HGET', b .. ':a', '_channel_ttl') or default_ttl)
  if ttl < 1 then ttl = 1 end
  for _, suffix in ipairs({':log', ':m', ':mn', ':n', ':a', ':s', ':r'}) do
    redis.call('EXPIRE', b .. suffix, ttl)
  end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A token bucket of ``rate`` per second (burst ``rate``) in b:r: the protocol's TokenBucket,
-- on Redis's clock, so that every node spends from one budget.
local function take(bucket, rate)
  local now = now_ms()
  local st = redis.call('HMGET', b .. ':r', bucket .. 't', bucket .. 's')
  local tokens, stamp = tonumber(st[1] or rate), tonumber(st[2] or now)
  if now > stamp then
    tokens = math.min(rate, tokens + (now - stamp) * rate / 1000)
    stamp = now
  end
  if tokens < 1 then return false end
  redis.call('HSET', b .. ':r', bucket .. 't', tostring(tokens - 1), bucket .. 's', stamp)
  return true
end
"""

#: ARGV 5 account, 6 node, 7 new epoch, 8 join payload, 9 user list size, 10 since (or ''),
#: 11 since's epoch. Returns {offset, epoch, num, users, attrs, replay, status, added}:
#: status 0 a plain join (snapshot), 1 recovered (``replay`` holds [id, quiet, payload] of
#: every entry after ``since``), 2 a gap (snapshot); added 1 if the account became a member.
JOIN = (
    _HEAD
    + """
local acct, node = ARGV[5], ARGV[6]
redis.call('HSETNX', b .. ':s', 'epoch', ARGV[7])
redis.call('SADD', 'sig:nodech:' .. node, app .. '\\n' .. name)
persist()
local epoch = redis.call('HGET', b .. ':s', 'epoch')
local creator = redis.call('HGET', b .. ':s', 'creator')
if creator then  -- created from outside: an ordinary channel now, off its creator's quota
  redis.call('ZREM', 'sig:qc:' .. app, name)
  if creator ~= '' then redis.call('ZREM', 'sig:qc:' .. app .. ' ' .. creator, name) end
  redis.call('HDEL', b .. ':s', 'creator')
end
local old = redis.call('HGET', b .. ':mn', acct)
local id
if old then
  -- Still a member (its node died, or a resent join): it moves here, nobody saw it leave.
  if old ~= node then
    if redis.call('HINCRBY', b .. ':n', old, -1) <= 0 then redis.call('HDEL', b .. ':n', old) end
    redis.call('HINCRBY', b .. ':n', node, 1)
    redis.call('HSET', b .. ':mn', acct, node)
  end
  id = last_id()
else
  local total = redis.call('HINCRBY', b .. ':s', 'total', 1)
  redis.call('ZADD', b .. ':m', total, acct)
  redis.call('HSET', b .. ':mn', acct, node)
  redis.call('HINCRBY', b .. ':n', node, 1)
  id = emit(ARGV[8], quiet())
end
local replay = {}
local status = 0
if ARGV[10] ~= '' then
  status = 2
  if old and ARGV[11] == epoch then
    local since = ARGV[10]
    local found = since == '0-0' or #redis.call('XRANGE', b .. ':log', since, since) == 1
    if found then
      status = 1
      for _, e in ipairs(redis.call('XRANGE', b .. ':log', '(' .. since, id)) do
        local f = e[2]
        replay[#replay + 1] = {e[1], f[4], f[2]}
      end
    end
  end
end
local added = 1
if old then added = 0 end
local n = tonumber(ARGV[9])
return {id, epoch, redis.call('ZCARD', b .. ':m'), redis.call('ZRANGE', b .. ':m', -n, -1),
        redis.call('HGETALL', b .. ':a'), replay, status, added}
"""
)

#: ARGV 5 account, 6 node holding it, 7 leave payload, 8 default ttl. Returns the offset,
#: '' if the account is not a member held by that node (it moved to another node since).
LEAVE = (
    _HEAD
    + """
local acct, node = ARGV[5], ARGV[6]
if redis.call('HGET', b .. ':mn', acct) ~= node then return '' end
local id = emit(ARGV[7], quiet())
redis.call('ZREM', b .. ':m', acct)
redis.call('HDEL', b .. ':mn', acct)
if redis.call('HINCRBY', b .. ':n', node, -1) <= 0 then redis.call('HDEL', b .. ':n', node) end
expire_if_empty(ARGV[8])
return id
"""
)

#: A message. ARGV 5 sender (or '' for the Server API), 6 payload, 7 client id, 8 cseq,
#: 9 mark key, 10 '1' to spend from the channel's rate budget (a member's message), 11 the
#: large-channel threshold, 12 the large-channel rate. Returns the offset, '' if the sender
#: is not a member, '=' if applied before, '~' if the channel's rate limit is reached.
POST = (
    _HEAD
    + """
local sender = ARGV[5]
if sender ~= '' and not redis.call('HGET', b .. ':mn', sender) then return '' end
local cseq = tonumber(ARGV[8])
if cseq > 0 then
  if cseq <= tonumber(redis.call('HGET', ARGV[9], ARGV[7]) or '0') then return '=' end
end
if ARGV[10] == '1' then
  local bucket, rate = 'sm', tonumber(redis.call('HGET', b .. ':a', '_sendmsg_limit') or '0')
  if rate <= 0 and redis.call('ZCARD', b .. ':m') > tonumber(ARGV[11]) then
    bucket, rate = 'lg', tonumber(ARGV[12])
  end
  if rate > 0 and not take(bucket, rate) then return '~' end
end
if cseq > 0 then redis.call('HSET', ARGV[9], ARGV[7], cseq) end
return emit(ARGV[6], '0')
"""
)

#: An attribute change. ARGV 5 op (set, del, clear), 6 name, 7 value, 8 payload, 9 max attrs,
#: 10 default ttl, 11 new epoch, 12 '1' for a call from outside (invoke, Server API) that
#: may create the channel, 13 its creator ('' the app), 14 channels per user, 15 per app.
#: Returns the offset, '' if nothing changed (or the channel does not exist), '!' if the
#: table is full, '?a' / '?u' if creating it would exceed the app's / the creator's quota,
#: '~N' if _setattr_limit (N per second) is reached.
ATTR = (
    _HEAD
    + """
local op, attr, value = ARGV[5], ARGV[6], ARGV[7]
local new = redis.call('EXISTS', b .. ':s') == 0
if new and op ~= 'set' then return '' end
local qa, qu = 'sig:qc:' .. app, 'sig:qc:' .. app .. ' ' .. ARGV[13]
if new and ARGV[12] == '1' then
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', qa, '-inf', now)
  if redis.call('ZCARD', qa) >= tonumber(ARGV[15]) then return '?a' end
  if ARGV[13] ~= '' then
    redis.call('ZREMRANGEBYSCORE', qu, '-inf', now)
    if redis.call('ZCARD', qu) >= tonumber(ARGV[14]) then return '?u' end
  end
  redis.call('HSET', b .. ':s', 'creator', ARGV[13])
end
redis.call('HSETNX', b .. ':s', 'epoch', ARGV[11])
if op == 'set' and redis.call('HEXISTS', b .. ':a', attr) == 0
   and redis.call('HLEN', b .. ':a') >= tonumber(ARGV[9]) then return '!' end
local limit = tonumber(redis.call('HGET', b .. ':a', '_setattr_limit') or '0')
if limit > 0 and not take('sa', limit) then return '~' .. limit end
if op == 'set' then
  redis.call('HSET', b .. ':a', attr, value)
elseif op == 'del' then
  if redis.call('HDEL', b .. ':a', attr) == 0 then return '' end
else
  redis.call('DEL', b .. ':a')
end
if op == 'clear' or attr == '_sendmsg_limit' then redis.call('HDEL', b .. ':r', 'smt', 'sms') end
if op == 'clear' or attr == '_setattr_limit' then redis.call('HDEL', b .. ':r', 'sat', 'sas') end
local id = emit(ARGV[8], '0')
expire_if_empty(ARGV[10])
local creator = redis.call('HGET', b .. ':s', 'creator')
if creator and redis.call('ZCARD', b .. ':m') == 0 then  -- on the quota until it expires
  local deadline = now_ms() + redis.call('PTTL', b .. ':s')
  redis.call('ZADD', qa, deadline, name)
  redis.call('EXPIRE', qa, 2678400)
  if creator ~= '' then
    qu = 'sig:qc:' .. app .. ' ' .. creator
    redis.call('ZADD', qu, deadline, name)
    redis.call('EXPIRE', qu, 2678400)
  end
end
return id
"""
)

#: The auto-updated counters. ARGV 5 attribute, 6 'num' or 'total' or 'off' (delete it),
#: 7 payload prefix (json up to the value). Any node with members may run it: it writes
#: (and emits) only a changed value, so several nodes doing it agree.
REFRESH = (
    _HEAD
    + """
local attr, what = ARGV[5], ARGV[6]
local current = redis.call('HGET', b .. ':a', attr)
if what == 'off' then
  if not current then return '' end
  redis.call('HDEL', b .. ':a', attr)
  return emit(ARGV[7] .. '""]', '0')
end
local value
if what == 'num' then value = tostring(redis.call('ZCARD', b .. ':m'))
else value = tostring(redis.call('HGET', b .. ':s', 'total') or '0') end
if current == value then return '' end
redis.call('HSET', b .. ':a', attr, value)
return emit(ARGV[7] .. cjson.encode(value) .. ']', '0')
"""
)

#: Reads for queries. ARGV 5 what (num, users, isin, attrs), 6 limit or account.
READ = """
local b = ARGV[1]
local what = ARGV[5]
if what == 'num' then return redis.call('ZCARD', b .. ':m') end
if what == 'isin' then return redis.call('HEXISTS', b .. ':mn', ARGV[6]) end
if what == 'attrs' then return redis.call('HGETALL', b .. ':a') end
local n = tonumber(ARGV[6])
if n <= 0 then return {redis.call('ZCARD', b .. ':m'), {}} end
return {redis.call('ZCARD', b .. ':m'), redis.call('ZRANGE', b .. ':m', -n, -1)}
"""
