// The quickstart's app: a page backed by the quickstart database.
//
// It reads DATABASE_URL and DATABASE_TOKEN from its environment (set by comwit_app_env)
// and talks to the database over the libSQL remote protocol (Hrana over HTTP,
// POST <database_url>v2/pipeline) with the runtime's own fetch: no dependencies.

// Runs statements (each `[sql, ...text arguments]`) on one stream; returns their results.
async function sql(env, statements) {
  const url = new URL("v2/pipeline", env.DATABASE_URL);
  const requests = statements.map(([text, ...args]) => ({
    type: "execute",
    stmt: { sql: text, args: args.map((value) => ({ type: "text", value })) },
  }));
  requests.push({ type: "close" });
  const answer = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${env.DATABASE_TOKEN}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ baton: null, requests }),
  });
  if (!answer.ok) {
    throw new Error(`database answered ${answer.status}`);
  }
  const body = await answer.json();
  return body.results.slice(0, statements.length).map((r) => {
    if (r.type !== "ok") {
      throw new Error(r.error?.message ?? "statement failed");
    }
    return r.response.result;
  });
}

export default {
  async fetch(request, env) {
    if (!env.DATABASE_URL || !env.DATABASE_TOKEN) {
      return new Response("DATABASE_URL and DATABASE_TOKEN are not set\n", { status: 500 });
    }
    const [, , counted] = await sql(env, [
      ["CREATE TABLE IF NOT EXISTS visits (path TEXT NOT NULL, at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"],
      ["INSERT INTO visits (path) VALUES (?)", new URL(request.url).pathname],
      ["SELECT count(*) FROM visits"],
    ]);
    const visits = counted.rows[0][0].value;
    const greeting = env.GREETING ?? "Hello";
    return new Response(`${greeting} from Comwit: visit ${visits}, served by the quickstart app\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
};
