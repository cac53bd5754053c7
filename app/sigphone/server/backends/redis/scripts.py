"""The Lua scripts of the Redis backend, and the key layout they share.

A script runs atomically, so what must happen together does: storing a message, moving its
sender's de-duplication mark and publishing it to the node of the recipient's live session
is one step, and a node receives the messages of one recipient in inbox-id order. A script
goes in full (EVAL) the first time in each batch and by its digest after that (pipe.script):
after a Redis restart the script cache is empty, and a NOSCRIPT refusal in the middle of a
batch would reorder it. Neighbouring calls of one script in a batch run inside one call
(``many``).

Keys (one Redis, not Redis Cluster: scripts name keys they compute):

- ``sig:iid`` a counter: inbox ids, growing for every recipient (the SDK drops old ids);
- ``sig:inbox:{app} {account}`` sorted set of ``iid|json[sender, msg, ts, expires]``;
- ``sig:mark:{app} {account}`` hash client_id -> highest applied send number;
- ``sig:attr:{app} {account}`` hash of user attributes;
- ``sig:pres:{app} {account}`` ``node\\nsid`` of the account's one live session;
- ``sig:alive:{node}`` exists while the node heartbeats (expires after ``node_ttl``);
- ``sig:once:{token}`` marks a non-repeatable step as done (a batch may be sent twice);
- channel ``sig:node:{node}``: ``m\\niid\\napp\\naccount\\njson`` (a message), ``k\\nsid``
  (a kick). Names never hold white space (protocol/names.py), so a space and a newline
  separate them safely.
"""

from __future__ import annotations

__all__ = [
    "APPEND",
    "ATTR_SET",
    "CLAIM",
    "DELETE",
    "LOAD",
    "ONLINE",
    "RELEASE",
    "alive_key",
    "key",
    "many",
    "node_channel",
]

PREFIX = "sig:"
#: Every node subscribes: the special-channel feeds (C8) and the API's events of all nodes.
FEED_CHANNEL = PREFIX + "feed"
#: The ids of the nodes that ever heartbeat (a dead one is removed once cleaned up after).
NODES = PREFIX + "nodes"


#: One script call carrying several calls of one script (``many``): ARGV[1] the number of
#: calls, then for each its key count, its argument count and its arguments; KEYS all the
#: calls' keys in order. Each call runs as before (the same body, its own KEYS and ARGV),
#: one after the other, inside one atomic step; a call that fails becomes an error reply in
#: its slot and the others still run, as they would have as separate commands.
_MANY = """
local function one(KEYS, ARGV)
%s
end
local out = {}
local k, a = 0, 2
for i = 1, tonumber(ARGV[1]) do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local keys, argv = {}, {}
  for j = 1, nk do keys[j] = KEYS[k + j] end
  for j = 1, na do argv[j] = ARGV[a + 1 + j] end
  k = k + nk
  a = a + 2 + na
  local ok, r = pcall(one, keys, argv)
  if not ok then
    if type(r) == 'table' and r.err then r = r.err end
    r = redis.error_reply(tostring(r))
  elseif r == nil then
    r = false
  end
  out[i] = r
end
return out
"""


def many(body: str) -> str:
    """The script that runs several calls of ``body`` in one EVALSHA (see ``_MANY``)."""
    return _MANY % body


def key(kind: str, app: str, account: str) -> str:
    return f"{PREFIX}{kind}:{app} {account}"


def alive_key(node: str) -> str:
    return f"{PREFIX}alive:{node}"


def node_channel(node: str) -> str:
    return f"{PREFIX}node:{node}"


#: KEYS inbox, sender's mark, recipient's presence; ARGV client_id, cseq, max inbox,
#: ttl seconds, record json, once token, app, account.
#: Returns the new iid, 0 if it was applied before, -1 if the inbox is full.
APPEND = """
local cseq = tonumber(ARGV[2])
if cseq > 0 then
  local mark = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  if cseq <= mark then return 0 end
elseif ARGV[6] ~= '' then
  if not redis.call('SET', 'sig:once:' .. ARGV[6], '1', 'NX', 'EX', 600) then return 0 end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
local iid = redis.call('INCR', 'sig:iid')
redis.call('ZADD', KEYS[1], iid, iid .. '|' .. ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if cseq > 0 then
  redis.call('HSET', KEYS[2], ARGV[1], cseq)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
local p = redis.call('GET', KEYS[3])
if p then
  local node = string.match(p, '^[^\\n]*')
  redis.call('PUBLISH', 'sig:node:' .. node,
    'm\\n' .. iid .. '\\n' .. ARGV[7] .. '\\n' .. ARGV[8] .. '\\n' .. ARGV[5])
end
return iid
"""

#: KEYS inbox; ARGV delete_upto, after. Drops ids <= delete_upto, returns members > after.
LOAD = """
if tonumber(ARGV[1]) > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
end
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
"""

#: KEYS inbox; ARGV the acknowledged iids.
DELETE = """
for i = 1, #ARGV do
  redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])
end
return #ARGV
"""

#: KEYS presence; ARGV node, sid, app, account, client (a digest of the SDK's client id),
#: login (the login request's id, growing with every attempt of one SDK session). The
#: account's live session is now this one; a session on another node is told to end (103).
#: An older attempt of the same client that reaches Redis late (its node was slow or cut
#: off, and the client has logged in elsewhere since) takes nothing: -1. Run once per login
#: even if the batch is sent again. ``sig:sess:{node}`` lets others clean up after a node.
CLAIM = """
if not redis.call('SET', 'sig:once:claim:' .. ARGV[2], '1', 'NX', 'EX', 600) then return 0 end
local old = redis.call('GET', KEYS[1])
local node, sid, client, login
if old then
  node, sid, client, login = string.match(old, '^([^\\n]*)\\n([^\\n]*)\\n?([^\\n]*)\\n?([^\\n]*)$')
  if ARGV[5] ~= '' and client == ARGV[5] and tonumber(login or '0') > tonumber(ARGV[6]) then
    return -1
  end
end
redis.call('SADD', 'sig:sess:' .. ARGV[1], ARGV[3] .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[2])
redis.call('SET', KEYS[1], ARGV[1] .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[6])
if sid and sid ~= ARGV[2] then
  redis.call('PUBLISH', 'sig:node:' .. node, 'k\\n' .. sid .. '\\n' .. ARGV[5])
end
return 1
"""

#: KEYS presence; ARGV node, sid, app, account: forget the presence if it is still this
#: session's.
RELEASE = """
redis.call('SREM', 'sig:sess:' .. ARGV[1], ARGV[3] .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[2])
local p = redis.call('GET', KEYS[1])
if p and string.match(p, '^[^\\n]*\\n[^\\n]*') == ARGV[1] .. '\\n' .. ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

#: KEYS presence. 1 if the account has a session on a node that is alive.
ONLINE = """
local p = redis.call('GET', KEYS[1])
if not p then return 0 end
local node = string.match(p, '^[^\\n]*')
return redis.call('EXISTS', 'sig:alive:' .. node)
"""

#: KEYS presence. {node, sid} of the account's session if its node is alive, else nil.
LOCATE = """
local p = redis.call('GET', KEYS[1])
if not p then return nil end
local node, sid = string.match(p, '^([^\\n]*)\\n([^\\n]*)')
if redis.call('EXISTS', 'sig:alive:' .. node) == 0 then return nil end
return {node, sid}
"""

#: KEYS attrs; ARGV name, value ('' deletes), max attributes. -1: too many attributes.
ATTR_SET = """
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
   and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
