-- wrk script: POST /v1/comments with unique ids (thread number + counter), alternating a
-- civil and a toxic comment. Every acknowledged id (2xx) is appended to
-- $VIGIE_ACK_DIR/acked-<thread>.txt so the run can check each one is in the database.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("VIGIE_BENCH_KEY")
local texts = {
  "Le conseil de défense s'est réuni jeudi matin à l'Élysée pour faire le point sur l'affaire Pegasus. Une enquête est en cours.",
  "Ce gouvernement nous prend vraiment pour des idiots, ces guignols de ministres devraient tous démissionner !!!",
}
local threads = {}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
local tid, n, acked = 0, 0, nil
init = function()
  tid = wrk.thread:get("tid")
  acked = io.open(os.getenv("VIGIE_ACK_DIR") .. "/acked-" .. tid .. ".txt", "w")
  acked:setvbuf("line")
end
request = function()
  n = n + 1
  local body = string.format('{"id": "bench-%d-%d", "article_id": "a%d", "author": "reader%d", "text": "%s"}',
    tid, n, n % 50, n % 997, texts[(n % 2) + 1])
  return wrk.format(nil, "/v1/comments", nil, body)
end
response = function(status, headers, body)
  if status == 200 or status == 201 then
    local id = string.match(body, '"id":"(bench%-[0-9]+%-[0-9]+)"')
    acked:write((id or "?") .. "\n")
  end
end
-- The RESULT line both load scripts print (run from the repository root).
dofile("bench/report.lua")
