-- POST /v1/balances.check for one premium request (3 credits), customer ids spread uniformly
-- over customer_0 .. customer_{N-1}, or all on customer_0 (hot).
-- wrk -s check.lua URL -- <customers N> <hot 0|1> <api key>
local customers, hot = 1, false
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  customers = tonumber(args[1]) or 1
  hot = args[2] == "1"
  headers["Authorization"] = "Bearer " .. (args[3] or "none")
  local address = tostring({}):match("0x(%x+)") or "1"
  math.randomseed(os.time() + tonumber(address:sub(-7), 16))
end

function request()
  local index = hot and 0 or math.random(0, customers - 1)
  local body = string.format(
    '{"customer_id":"customer_%d","feature_id":"premium_request","required_balance":1}', index)
  return wrk.format("POST", "/v1/balances.check", headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"status_errors":%d,' ..
    '"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
