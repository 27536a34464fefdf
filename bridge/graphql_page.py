"""The GraphQL explorer at GET /graphql: one self-contained page (no script from anywhere but itself).

A query editor, variables, a Run button (or Ctrl+Enter), the result, and the schema's fields
read by introspection. Its Content-Security-Policy allows only its own inline script and style
(by nonce) and requests to this origin, so a browser could not load anything else even if the
page asked. All text from the server is set with `textContent`, never parsed as HTML.
"""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse

EXAMPLE = """mutation {
  docs(data: [{text: "hello"}], execEndpoint: "/") {
    id
    text
    tags
  }
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - GraphQL</title>
<style nonce="{nonce}">
  body {{ font-family: system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 1fr 1fr 18rem;
         grid-template-rows: auto 1fr; height: 100vh; }}
  header {{ grid-column: 1 / 4; padding: .5rem 1rem; background: #2d3748; color: #fff; display: flex; gap: 1rem;
           align-items: center; }}
  header h1 {{ font-size: 1rem; margin: 0; flex: 1; }}
  section {{ display: flex; flex-direction: column; padding: .5rem; min-height: 0; }}
  label {{ font-size: .8rem; color: #4a5568; margin: .25rem 0; }}
  textarea, pre {{ font-family: ui-monospace, monospace; font-size: .85rem; border: 1px solid #cbd5e0;
                  padding: .5rem; margin: 0; }}
  #query {{ flex: 3; }} #variables {{ flex: 1; }}
  #result {{ flex: 1; overflow: auto; background: #f7fafc; white-space: pre-wrap; }}
  #result.failed {{ border-color: #e53e3e; }}
  #schema {{ overflow: auto; font-size: .85rem; border-left: 1px solid #cbd5e0; }}
  #schema h2 {{ font-size: .9rem; margin: .75rem 0 .25rem; }}
  #schema ul {{ margin: 0; padding-left: 1rem; }}
  #schema code {{ color: #2b6cb0; }}
  button {{ font-size: 1rem; padding: .25rem 1rem; cursor: pointer; }}
</style>
</head>
<body>
<header><h1>{title} &middot; GraphQL at <code>/graphql</code></h1>
<span id="status"></span><button id="run" type="button" title="Ctrl+Enter">Run</button></header>
<section>
  <label for="query">Query</label>
  <textarea id="query" spellcheck="false">{query}</textarea>
  <label for="variables">Variables (JSON)</label>
  <textarea id="variables" spellcheck="false">{variables}</textarea>
</section>
<section>
  <label for="result">Result</label>
  <pre id="result" aria-live="polite"></pre>
</section>
<section id="schema" aria-label="Schema"><label>Schema</label></section>
<script nonce="{nonce}">
"use strict";
const endpoint = window.location.pathname;
const $ = (id) => document.getElementById(id);

async function post(query, variables) {{
  const reply = await fetch(endpoint, {{
    method: "POST",
    headers: {{"content-type": "application/json", "accept": "application/json"}},
    body: JSON.stringify({{query: query, variables: variables}}),
  }});
  return reply.json();
}}

async function run() {{
  const result = $("result");
  let variables = null;
  const text = $("variables").value.trim();
  if (text) {{
    try {{ variables = JSON.parse(text); }}
    catch (error) {{ result.className = "failed"; result.textContent = "Variables: " + error.message; return; }}
  }}
  $("status").textContent = "running...";
  try {{
    const answer = await post($("query").value, variables);
    result.className = answer.errors ? "failed" : "ok";
    result.textContent = JSON.stringify(answer, null, 2);
  }} catch (error) {{
    result.className = "failed";
    result.textContent = String(error);
  }}
  $("status").textContent = "";
}}

function typeName(type) {{
  if (type.kind === "NON_NULL") return typeName(type.ofType) + "!";
  if (type.kind === "LIST") return "[" + typeName(type.ofType) + "]";
  return type.name;
}}

function element(tag, text) {{
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}}

function listFields(title, type) {{
  if (!type) return;
  const box = $("schema");
  box.appendChild(element("h2", title));
  const list = element("ul");
  list.className = "fields";
  for (const field of type.fields || type.inputFields || []) {{
    const item = element("li");
    item.appendChild(element("code", field.name));
    const args = (field.args || []).map((a) => a.name + ": " + typeName(a.type)).join(", ");
    item.appendChild(document.createTextNode((args ? "(" + args + ")" : "") + ": " + typeName(field.type)));
    list.appendChild(item);
  }}
  box.appendChild(list);
}}

const INTROSPECTION = `{{ __schema {{ queryType {{ name }} mutationType {{ name }}
  types {{ name kind fields {{ name args {{ name type {{ ...T }} }} type {{ ...T }} }} }} }} }}
fragment T on __Type {{ kind name ofType {{ kind name ofType {{ kind name ofType {{ kind name }} }} }} }}`;

async function loadSchema() {{
  const answer = await post(INTROSPECTION, null);
  const schema = answer.data.__schema;
  const types = Object.fromEntries(schema.types.map((t) => [t.name, t]));
  listFields("Query", types[schema.queryType.name]);
  if (schema.mutationType) listFields("Mutation", types[schema.mutationType.name]);
  for (const t of schema.types) {{
    if (t.kind === "OBJECT" && !t.name.startsWith("__") && t.name !== schema.queryType.name
        && (!schema.mutationType || t.name !== schema.mutationType.name)) listFields(t.name, t);
  }}
  document.body.dataset.schema = "loaded";
}}

$("run").addEventListener("click", run);
document.addEventListener("keydown", (event) => {{
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {{ event.preventDefault(); run(); }}
}});
loadSchema().catch((error) => {{ $("schema").appendChild(element("p", "Schema not loaded: " + error)); }});
</script>
</body>
</html>
"""


def page(nonce: str, title: str, query: str | None = None, variables: str | None = None) -> HTMLResponse:
    """The explorer, its editor holding `query` and `variables` (from the URL) or an example."""
    body = _PAGE.format(
        nonce=nonce,
        title=html.escape(title),
        query=html.escape(query if query is not None else EXAMPLE),
        variables=html.escape(variables if variables is not None else ""),
    )
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})


__all__ = ["EXAMPLE", "page"]
