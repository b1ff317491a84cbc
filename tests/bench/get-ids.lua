-- SPDX-License-Identifier: Apache-2.0
-- wrk script for tests/bench/run-load: GET /api/v1/submissions/{id} over random ids read from a file.
-- Usage: wrk ... -s get-ids.lua URL -- IDS_FILE
local ids, n = {}, 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      n = n + 1
      ids[n] = line
    end
  end
  if n == 0 then
    error("no ids in " .. tostring(args[1]))
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  return wrk.format("GET", "/api/v1/submissions/" .. ids[math.random(n)])
end
