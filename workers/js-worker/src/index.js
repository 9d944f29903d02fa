// The JavaScript half of cfprobe's route contract; workers/py-worker serves the same routes with
// the same statuses and bodies, so one check suite probes both.

const RUNTIME = "JavaScript";

const COUNTER_TABLE = `CREATE TABLE IF NOT EXISTS page_views (
  page TEXT PRIMARY KEY,
  count INTEGER NOT NULL DEFAULT 0
)`;

// One statement increments and returns the new value, so concurrent hits never read a stale count.
const COUNTER_UPSERT = `INSERT INTO page_views (page, count) VALUES (?, 1)
  ON CONFLICT(page) DO UPDATE SET count = count + 1
  RETURNING count`;

const FORM_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Message form</title></head>
<body>
<h1>Send a message</h1>
<form method="post" action="/form">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" required>
  <label for="message">Message</label>
  <textarea id="message" name="message" required></textarea>
  <button type="submit">Send</button>
</form>
</body>
</html>
`;

function escapeHtml(text) {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function resultPage(name, message) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Message received</title></head>
<body>
<h1>Message received</h1>
<p>Name: <span id="name">${escapeHtml(name)}</span></p>
<p>Message: <span id="message">${escapeHtml(message)}</span></p>
<p><a href="/form">Send another</a></p>
</body>
</html>
`;
}

const text = (body, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
const html = (body, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
const json = (value, status = 200) =>
  new Response(`${JSON.stringify(value)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });

async function handleFormPost(request) {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    return text("Send the form as application/x-www-form-urlencoded.\n", 415);
  }
  const fields = new URLSearchParams(await request.text());
  const missing = ["name", "message"].filter((field) => !(fields.get(field) ?? "").trim());
  if (missing.length > 0) {
    return text(`Missing field: ${missing.join(", ")}\n`, 400);
  }
  return html(resultPage(fields.get("name"), fields.get("message")));
}

async function handleCounter(env) {
  await env.DB.prepare(COUNTER_TABLE).run();
  const row = await env.DB.prepare(COUNTER_UPSERT).bind("counter").first();
  return json({ page: "counter", count: row.count });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const method = request.method;
    if ((pathname === "/" || pathname === "/hello") && method === "GET") {
      return text(`Hello from the ${RUNTIME} worker!\n`);
    }
    if (pathname === "/form" && method === "GET") return html(FORM_PAGE);
    if (pathname === "/form" && method === "POST") return handleFormPost(request);
    if (pathname === "/counter" && method === "GET") return handleCounter(env);
    if (["/", "/hello", "/form", "/counter"].includes(pathname)) {
      return text(`Method ${method} is not allowed on ${pathname}.\n`, 405);
    }
    return text(`Not found: ${pathname}\n`, 404);
  },
};
