// Drives the real autumn-js client's batchTrack against an allotment server and prints one
// JSON object (the conventions of seed.mjs).
//
//   node batch.mjs SERVER_URL SECRET_KEY   (or AUTUMN_SERVER_URL / AUTUMN_SECRET_KEY)
//
// Every step is recorded as {"ok": <the client's parsed result>} or {"error": {...}}, so the
// pytest side (tests/clients/test_batch_track_clients.py) can say exactly which step broke.
// autumn-js 1.3.13 accepts only status 202 from balances.batch_track: any other success status
// makes batchTrack throw, so an "ok" step proves the status. The client is built with
// failOpen: false: a failing server must never read as a success.
import { Autumn } from "autumn-js";

const serverURL = process.argv[2] ?? process.env.AUTUMN_SERVER_URL;
const secretKey = process.argv[3] ?? process.env.AUTUMN_SECRET_KEY;
if (!serverURL || !secretKey) {
  console.error("usage: node batch.mjs SERVER_URL SECRET_KEY");
  process.exit(2);
}

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

// --- the catalog: the seed example, plus messages with a balance of their own ----------------
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
await step("features.create messages", () =>
  autumn.features.create({ featureId: "messages", name: "Messages", type: "metered", consumable: true }),
);
await step("plans.create pro", () =>
  autumn.plans.create({
    planId: "pro",
    name: "Pro",
    autoEnable: true,
    items: [
      { featureId: "credits", included: 100, reset: { interval: "month" } },
      { featureId: "messages", included: 10 },
    ],
  }),
);
for (const customerId of ["user_1", "user_2"]) {
  await step(`customers.getOrCreate ${customerId}`, () => autumn.customers.getOrCreate({ customerId }));
}

// --- batchTrack ------------------------------------------------------------------------------
await step("batchTrack", () =>
  autumn.batchTrack([
    { customerId: "user_1", featureId: "premium_request", value: 6 },
    { customerId: "user_2", featureId: "messages", value: 4 },
    { customerId: "user_1", featureId: "messages", value: 1.5, properties: { model: "fast" } },
    { customerId: "user_2", featureId: "messages", value: 20, overageBehavior: "cap" },
    { customerId: "user_1", featureId: "premium_request" },
  ]),
);
await step("customers.get user_1", () => autumn.customers.get({ customerId: "user_1" }));
await step("customers.get user_2", () => autumn.customers.get({ customerId: "user_2" }));

// an event of an unknown customer fails that event only: the batch is still accepted
await step("batchTrack with an unknown customer", () =>
  autumn.batchTrack([
    { customerId: "nobody", featureId: "messages" },
    { customerId: "user_1", featureId: "premium_request", value: 1 },
  ]),
);
await step("customers.get user_1 after the second batch", () =>
  autumn.customers.get({ customerId: "user_1" }),
);

// a refused batch: an unknown feature is a 404 and nothing of the batch is written
await step("error batchTrack unknown feature", () =>
  autumn.batchTrack([
    { customerId: "user_1", featureId: "premium_request", value: 1 },
    { customerId: "user_1", featureId: "no_such_feature" },
  ]),
);
await step("customers.get user_1 after the refused batch", () =>
  autumn.customers.get({ customerId: "user_1" }),
);

process.stdout.write(JSON.stringify(results) + "\n");
