-- wrk on the get workload: GET /models/{id} over the same ids as the other clients, with the
-- Basic authorization header, parsing no JSON: the floor. benchmarks/run runs it as
--     wrk -t1 -c POOL -d SECONDS -s wrk_get.lua BASE_URL -- IDS_FILE AUTHORIZATION
-- and reads the JSON line that done() prints last.

local requests = {}
local next_request = 0

local function percent_encode(text)
    return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
    local prefix = wrk.path:gsub("/$", "")
    local headers = {Authorization = args[2], Accept = "application/json"}
    for id in io.lines(args[1]) do
        if id ~= "" then
            local path = prefix .. "/models/" .. percent_encode(id)
            requests[#requests + 1] = wrk.format("GET", path, headers)
        end
    end
end

function request()
    next_request = next_request % #requests + 1
    return requests[next_request]
end

function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        '{"client":"wrk","workload":"get","requests":%d,"errors":%d,"wall_s":%.6f,' ..
        '"p50_ms":%.3f,"p99_ms":%.3f}\n',
        summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
        summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
