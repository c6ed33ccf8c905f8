// Drives the real autumn-js client against an allotment server and prints one JSON object.
//
//   node seed.mjs SERVER_URL SECRET_KEY [DEAD_URL]   (or AUTUMN_SERVER_URL / AUTUMN_SECRET_KEY)
//
// Every step is recorded as {"ok": <the client's parsed result>} or {"error": {...}}, so the
// pytest side (tests/clients/test_autumn_js.py) can say exactly which step broke and how.
// The client is built with failOpen: false: a failing server must never read as "allowed".
import { Autumn } from "autumn-js";

const serverURL = process.argv[2] ?? process.env.AUTUMN_SERVER_URL;
const secretKey = process.argv[3] ?? process.env.AUTUMN_SECRET_KEY;
if (!serverURL || !secretKey) {
  console.error("usage: node seed.mjs SERVER_URL SECRET_KEY");
  process.exit(2);
}

// A port nothing listens on (the test passes one it has just closed), for the fail-closed probe.
const deadServerURL = process.argv[4] ?? process.env.AUTUMN_DEAD_SERVER_URL ?? "http://127.0.0.1:9";

const autumn = new Autumn({ secretKey, serverURL, failOpen: false, timeoutMs: 10000 });
const results = {};

function describe(error) {
  const out = { name: error?.name ?? null, message: String(error?.message ?? error) };
  if (error && typeof error.statusCode === "number") {
    out.statusCode = error.statusCode;
    out.body = error.body;
    try {
      out.json = JSON.parse(error.body);
    } catch {
      out.json = null;
    }
  }
  if (error?.cause) out.cause = String(error.cause);
  return out;
}

async function step(name, run) {
  try {
    results[name] = { ok: (await run()) ?? null };
  } catch (error) {
    results[name] = { error: describe(error) };
  }
}

// --- the seed example ------------------------------------------------------------------------
await step("features.create premium_request", () =>
  autumn.features.create({
    featureId: "premium_request",
    name: "Premium request",
    type: "metered",
    consumable: true,
  }),
);
await step("features.create credits", () =>
  autumn.features.create({
    featureId: "credits",
    name: "Credits",
    type: "credit_system",
    consumable: true,
    creditSchema: [{ meteredFeatureId: "premium_request", creditCost: 3 }],
  }),
);
await step("features.create api_call", () =>
  autumn.features.create({ featureId: "api_call", name: "API call", type: "metered", consumable: true }),
);
await step("plans.create pro", () =>
  autumn.plans.create({
    planId: "pro",
    name: "Pro",
    autoEnable: true,
    items: [{ featureId: "credits", included: 100, reset: { interval: "month" } }],
  }),
);
await step("customers.getOrCreate", () => autumn.customers.getOrCreate({ customerId: "user_1" }));
await step("check premium_request 6", () =>
  autumn.check({ customerId: "user_1", featureId: "premium_request", requiredBalance: 6 }),
);
await step("track premium_request 6", () =>
  autumn.track({ customerId: "user_1", featureId: "premium_request", value: 6 }),
);
await step("check api_call", () => autumn.check({ customerId: "user_1", featureId: "api_call" }));

// --- a few more --------------------------------------------------------------------------------
await step("plans.create booster", () =>
  autumn.plans.create({
    planId: "booster",
    name: "Booster pack",
    addOn: true,
    items: [{ featureId: "api_call", included: 10, reset: { interval: "month" } }],
  }),
);
await step("billing.attach booster", () =>
  autumn.billing.attach({ customerId: "user_1", planId: "booster" }),
);
await step("check api_call after attach", () =>
  autumn.check({ customerId: "user_1", featureId: "api_call", requiredBalance: 4 }),
);
await step("track api_call 4", () =>
  autumn.track({ customerId: "user_1", featureId: "api_call", value: 4 }),
);
await step("check send_event premium_request 2", () =>
  autumn.check({
    customerId: "user_1",
    featureId: "premium_request",
    requiredBalance: 2,
    sendEvent: true,
  }),
);
await step("check lock L1 premium_request 5", () =>
  autumn.check({
    customerId: "user_1",
    featureId: "premium_request",
    requiredBalance: 5,
    lock: { lockId: "L1", enabled: true },
  }),
);
await step("balances.finalize L1 release", () =>
  autumn.balances.finalize({ lockId: "L1", action: "release" }),
);
await step("check lock L2 premium_request 1", () =>
  autumn.check({
    customerId: "user_1",
    featureId: "premium_request",
    requiredBalance: 1,
    lock: { lockId: "L2", enabled: true },
  }),
);
await step("balances.finalize L2 confirm", () =>
  autumn.balances.finalize({ lockId: "L2", action: "confirm" }),
);
await step("features.create seats", () =>
  autumn.features.create({ featureId: "seats", name: "Seats", type: "metered", consumable: false }),
);
await step("plans.create team", () =>
  autumn.plans.create({
    planId: "team",
    name: "Team",
    addOn: true,
    items: [{ featureId: "seats", included: 3 }],
  }),
);
await step("billing.attach team", () =>
  autumn.billing.attach({ customerId: "user_1", planId: "team" }),
);
await step("entities.create seat_1", () =>
  autumn.entities.create({
    customerId: "user_1",
    entityId: "seat_1",
    featureId: "seats",
    name: "Alice",
  }),
);
await step("entities.get seat_1", () =>
  autumn.entities.get({ customerId: "user_1", entityId: "seat_1" }),
);
await step("customers.get", () => autumn.customers.get({ customerId: "user_1" }));
await step("entities.delete seat_1", () =>
  autumn.entities.delete({ customerId: "user_1", entityId: "seat_1" }),
);
await step("customers.get after entities.delete", () =>
  autumn.customers.get({ customerId: "user_1" }),
);

// --- test clock: 40 days on, the monthly credits have reset ----------------------------------
const frozenTime = Date.now() + 40 * 24 * 3600 * 1000;
await step("customers.advanceTestClock", () =>
  autumn.customers.advanceTestClock({ customerId: "user_1", frozenTime }),
);
await step("customers.get after advanceTestClock", () =>
  autumn.customers.get({ customerId: "user_1" }),
);
results["frozenTime"] = { ok: frozenTime };

// --- rollovers: a forever rollover capped at 50% and a monthly one, seen through the client ---
await step("features.create roll_msg", () =>
  autumn.features.create({ featureId: "roll_msg", name: "Messages", type: "metered", consumable: true }),
);
await step("plans.create rolling", () =>
  autumn.plans.create({
    planId: "rolling",
    name: "Rolling",
    group: "rolling",
    items: [
      {
        featureId: "roll_msg",
        included: 100,
        reset: { interval: "month" },
        rollover: { maxPercentage: 50, expiryDurationType: "forever" },
      },
    ],
  }),
);
await step("customers.getOrCreate user_2", () =>
  autumn.customers.getOrCreate({ customerId: "user_2" }),
);
await step("billing.attach rolling", () =>
  autumn.billing.attach({ customerId: "user_2", planId: "rolling" }),
);
await step("balances.create rolling promo", () =>
  autumn.balances.create({
    customerId: "user_2",
    featureId: "roll_msg",
    includedGrant: 10,
    reset: { interval: "month" },
    rollover: { max: 4, duration: "month", length: 1 },
  }),
);
await step("customers.advanceTestClock user_2", () =>
  autumn.customers.advanceTestClock({ customerId: "user_2", frozenTime }),
);
await step("customers.get user_2", () => autumn.customers.get({ customerId: "user_2" }));
await step("plans.get rolling", () => autumn.plans.get({ planId: "rolling" }));

// --- loose grants (issue 10 items 4-7): next_reset_at, a per-customer balance_id, and
// included_grant beside remaining in one update ------------------------------------------------
const firstResetAt = Date.now() + 10 * 24 * 3600 * 1000;
results["firstResetAt"] = { ok: firstResetAt };
await step("features.create loose_msg", () =>
  autumn.features.create({ featureId: "loose_msg", name: "Loose", type: "metered", consumable: true }),
);
for (const customerId of ["user_3", "user_4"]) {
  await step(`customers.getOrCreate ${customerId}`, () => autumn.customers.getOrCreate({ customerId }));
}
await step("balances.create nextResetAt", () =>
  autumn.balances.create({
    customerId: "user_3",
    featureId: "loose_msg",
    includedGrant: 100,
    reset: { interval: "month" },
    nextResetAt: firstResetAt,
    balanceId: "promo",
  }),
);
await step("balances.create same balanceId, another customer", () =>
  autumn.balances.create({ customerId: "user_4", featureId: "loose_msg", includedGrant: 20, balanceId: "promo" }),
);
await step("error balances.create same balanceId, same customer", () =>
  autumn.balances.create({ customerId: "user_3", featureId: "loose_msg", includedGrant: 1, balanceId: "promo" }),
);
await step("error balances.create rollover without reset", () =>
  autumn.balances.create({
    customerId: "user_3",
    featureId: "loose_msg",
    includedGrant: 5,
    rollover: { max: 5, duration: "month", length: 1 },
  }),
);
await step("balances.update includedGrant with remaining", () =>
  autumn.balances.update({
    customerId: "user_3",
    featureId: "loose_msg",
    balanceId: "promo",
    includedGrant: 75,
    remaining: 50,
  }),
);
await step("customers.get user_3", () => autumn.customers.get({ customerId: "user_3" }));
await step("customers.get user_4", () => autumn.customers.get({ customerId: "user_4" }));

// --- errors --------------------------------------------------------------------------------------
await step("error unknown feature", () =>
  autumn.check({ customerId: "user_1", featureId: "no_such_feature" }),
);
await step("error unknown customer", () => autumn.customers.get({ customerId: "nobody" }));
await step("error attach unknown plan", () =>
  autumn.billing.attach({ customerId: "user_1", planId: "no_such_plan" }),
);
await step("error bad key", () =>
  new Autumn({ secretKey: "am_sk_test_not_a_real_key", serverURL, failOpen: false }).check({
    customerId: "user_1",
    featureId: "premium_request",
  }),
);
// Fail-closed probe: with failOpen: false a dead server must throw, never answer "allowed".
await step("fail-closed probe", () =>
  new Autumn({ secretKey, serverURL: deadServerURL, failOpen: false }).check({
    customerId: "user_1",
    featureId: "premium_request",
  }),
);

process.stdout.write(JSON.stringify(results) + "\n");
