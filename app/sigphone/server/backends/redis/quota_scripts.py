"""The per-sender message quotas of a cluster, counted in Redis with the store's own scripts.

The inbox scripts (scripts.py) are wrapped, not changed: each script here runs the original
inside it, so storing a message and counting it against its sender is one atomic step, and so
is deleting it and uncounting it. A batch sent twice stays safe: a repeat (send mark or
once-key) is neither checked nor counted again.

What is counted (core/quotas.py), for users' sends only (the app's own server is outside the
per-sender quotas, as on one server):

- ``sig:qs:{app} {sender}`` sorted set of the sender's undelivered inbox ids, scored by
  expiry: ``undelivered_per_sender``;
- ``sig:qp:{app} {recipient} {sender}`` the same within one inbox: ``inbox_share_per_sender``.

Scoring by expiry makes an expired message leave the counts by itself (ZREMRANGEBYSCORE up to
now before counting), like the SQLite store's purge, with no sweeper.
"""

from __future__ import annotations

from sigphone.server.backends.redis import scripts as s

__all__ = ["APPEND", "DELETE", "LOAD", "SENDER_FULL", "SHARE_FULL"]

#: Replies of APPEND beside the original's (iid, 0 a repeat, -1 the inbox is full).
SHARE_FULL = -2
SENDER_FULL = -3

#: The original APPEND's KEYS and ARGV 1-8, then ARGV 9 '1' to check and count (a user's
#: send), 10 inbox share, 11 undelivered per sender, 12 now, 13 the message's expiry,
#: 14 sender.
APPEND = f"""
local function append()
{s.APPEND}
end
local count = ARGV[9] == '1'
local qs = 'sig:qs:' .. ARGV[7] .. ' ' .. ARGV[14]
local qp = 'sig:qp:' .. ARGV[7] .. ' ' .. ARGV[8] .. ' ' .. ARGV[14]
local cseq = tonumber(ARGV[2])
local repeated = false
if cseq > 0 then
  repeated = cseq <= tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
elseif ARGV[6] ~= '' then
  repeated = redis.call('EXISTS', 'sig:once:' .. ARGV[6]) == 1
end
-- Expired ids are dropped only when a count reaches its quota: most sends pay one ZCARD each.
local function full(set, quota)
  if redis.call('ZCARD', set) < quota then return false end
  redis.call('ZREMRANGEBYSCORE', set, '-inf', ARGV[12])
  return redis.call('ZCARD', set) >= quota
end
if count and not repeated and redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  if full(qp, tonumber(ARGV[10])) then return {SHARE_FULL} end
  if full(qs, tonumber(ARGV[11])) then return {SENDER_FULL} end
end
local iid = append()
if count and iid > 0 then
  redis.call('ZADD', qs, ARGV[13], iid)
  redis.call('ZADD', qp, ARGV[13], iid)
  redis.call('EXPIRE', qs, ARGV[4])
  redis.call('EXPIRE', qp, ARGV[4])
end
return iid
"""

#: Uncount inbox members (``iid|json[sender, ...]``) about to be deleted from KEYS[1].
_UNCOUNT = """
local app, account = string.match(KEYS[1], '^sig:inbox:(%S+) (%S+)$')
local function uncount(members)
  for _, m in ipairs(members) do
    local bar = string.find(m, '|', 1, true)
    local iid = string.sub(m, 1, bar - 1)
    local sender = cjson.decode(string.sub(m, bar + 1))[1]
    redis.call('ZREM', 'sig:qs:' .. app .. ' ' .. sender, iid)
    redis.call('ZREM', 'sig:qp:' .. app .. ' ' .. account .. ' ' .. sender, iid)
  end
end
"""

#: The original LOAD (KEYS inbox; ARGV delete_upto, after), uncounting what it deletes.
LOAD = f"""
{_UNCOUNT}
if tonumber(ARGV[1]) > 0 then
  uncount(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]))
end
local function load()
{s.LOAD}
end
return load()
"""

#: The original DELETE (KEYS inbox; ARGV the iids), uncounting what it deletes.
DELETE = f"""
{_UNCOUNT}
for i = 1, #ARGV do
  uncount(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i]))
end
local function delete()
{s.DELETE}
end
return delete()
"""
