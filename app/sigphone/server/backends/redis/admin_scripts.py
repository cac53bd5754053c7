"""Lua scripts of the Server API's administrator kicks on a cluster.

A kick must reach the node that holds the session or the channel member, whichever node
received the HTTP request. Finding that node and telling it is one atomic step, and the
number of nodes that PUBLISH reached makes the API's answer truthful: 0 means the holder is
dead or cut off from Redis (the caller then cleans up in Redis itself, see channels.py).

Messages on ``sig:node:{node}``: ``x\\nsid`` (log that session out, 103) and
``a\\napp\\nchannel\\naccount`` (remove that member, 601).
"""

from __future__ import annotations

__all__ = ["KICK_USER", "REMOVE_MEMBER"]

#: KEYS presence; ARGV this node. -1: the session is on this node; 0: no live session on any
#: node; else how many subscribers of its node's channel got the kick (1: delivered).
KICK_USER = """
local p = redis.call('GET', KEYS[1])
if not p then return 0 end
local node, sid = string.match(p, '^([^\\n]*)\\n([^\\n]*)')
if node == ARGV[1] then return -1 end
if redis.call('EXISTS', 'sig:alive:' .. node) == 0 then return 0 end
return redis.call('PUBLISH', 'sig:node:' .. node, 'x\\n' .. sid)
"""

#: ARGV channel base key, app, channel, account, this node. '' if the account is not a
#: member; else ``node\\nreached``: the member's node and how many subscribers of its
#: channel got the removal (-1: this node holds it).
REMOVE_MEMBER = """
local node = redis.call('HGET', ARGV[1] .. ':mn', ARGV[4])
if not node then return '' end
if node == ARGV[5] then return node .. '\\n-1' end
local n = redis.call('PUBLISH', 'sig:node:' .. node,
  'a\\n' .. ARGV[2] .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
return node .. '\\n' .. n
"""
