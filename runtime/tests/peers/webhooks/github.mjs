// GitHub's side of the cross-check, with @octokit/webhooks-methods:
//   node github.mjs cases github N SEED  signed (and mutated) deliveries, one JSON
//                                  case per line with the library's verdict
//   node github.mjs judge          verdicts for the cases on stdin
import { sign, verify } from "@octokit/webhooks-methods";
import { createInterface } from "node:readline";

function rng(seed) {
  let s = BigInt(seed) | 1n;
  return () => {
    s ^= s << 13n; s &= (1n << 64n) - 1n;
    s ^= s >> 7n;
    s ^= s << 17n; s &= (1n << 64n) - 1n;
    return Number(s % 1000000007n) / 1000000007;
  };
}

async function verdict(c) {
  const signature = (c.headers.find(([k]) => k.toLowerCase() === "x-hub-signature-256") || [])[1] || "";
  for (const secret of c.secrets) {
    try {
      if (await verify(secret, c.body, signature)) return true;
    } catch (_) {}
  }
  return false;
}

async function cases(n, seed) {
  const r = rng(seed);
  const word = () => Math.floor(r() * 1e9).toString(36);
  for (let i = 0; i < n; i++) {
    const secret = word() + word(), other = word() + word();
    let body = JSON.stringify({ id: i, text: ["a", "café", "☃", ""][Math.floor(r() * 4)], n: word() });
    const kinds = ["valid", "tampered", "wrong_secret", "rotated"];
    const kind = kinds[Math.floor(r() * kinds.length)];
    const headers = [["x-hub-signature-256", await sign(secret, body)], ["x-github-delivery", "d-" + i]];
    let secrets = [secret];
    if (kind === "tampered") body = body.replace("{", "{ ");
    if (kind === "wrong_secret") secrets = [other];
    if (kind === "rotated") secrets = [other, secret];
    const c = { scheme: "github", kind, secrets, headers, body, url: null, now: 1700000000 };
    c.valid = await verdict(c);
    console.log(JSON.stringify(c));
  }
}

const [mode, , n, seed] = process.argv.slice(2);
if (mode === "cases") {
  await cases(Number(n), Number(seed));
} else if (mode === "judge") {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim()) console.log((await verdict(JSON.parse(line))) ? "true" : "false");
  }
} else {
  console.error("usage: github.mjs cases github N SEED | judge");
  process.exit(2);
}
