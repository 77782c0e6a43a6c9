-- wrk script: a different search on every request (two words from the seeded text, and a
-- page of results), so none is answered from the page cache. Each wrk thread starts at
-- its own place in the sequence.
local words = { "database", "index", "proxy", "deploy", "vector", "crate", "module", "string",
  "reply", "async", "iterator", "timeout", "migration", "postgres", "token", "queue",
  "response", "backoff", "transaction", "certificate" }
local threads = 0
local n = 0

function setup(thread)
  thread:set("first", threads * 100000)
  threads = threads + 1
end

function init(args)
  n = first or 0
end

function request()
  n = n + 1
  local a = words[n % #words + 1]
  local b = words[math.floor(n / #words) % #words + 1]
  local page = math.floor(n / (#words * #words)) % 3 + 1
  return wrk.format("GET", "/search?q=" .. a .. "+" .. b .. "&page=" .. page)
end
