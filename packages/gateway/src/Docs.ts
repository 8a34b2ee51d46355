import { HttpRouter, HttpServerResponse } from "effect/http"

// A readable page for the OpenAPI document, served by the project itself (no
// CDN, no bundled UI framework: it must stay small enough for a Worker).
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1000px; padding: 1rem 2rem; color: #222 }
  h1 { margin-bottom: 0 } h2 { border-bottom: 1px solid #ddd; margin-top: 2rem }
  .op { border: 1px solid #e3e3e3; border-radius: 6px; margin: .6rem 0; padding: .4rem .8rem }
  .m { display: inline-block; min-width: 4.2rem; font-weight: 700; font-family: monospace }
  .GET { color: #0a7 } .POST { color: #06c } .PUT { color: #b70 } .DELETE { color: #c22 } .PATCH { color: #85c }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px }
  pre { background: #f6f8fa; padding: .5rem; overflow: auto; max-height: 24rem }
  details summary { cursor: pointer }
  .lock { color: #a60; font-size: 12px }
</style>
</head>
<body>
<h1 id="title">Shop API</h1>
<p id="desc"></p>
<p>Machine-readable document: <a href="openapi.json">openapi.json</a></p>
<div id="api">Loading…</div>
<script>
const el = (tag, attrs, ...children) => {
  const node = document.createElement(tag)
  Object.assign(node, attrs || {})
  for (const child of children) node.append(child)
  return node
}
const resolve = (doc, schema) => {
  if (schema && schema.$ref) return resolve(doc, schema.$ref.split("/").slice(1).reduce((o, k) => o[k], doc))
  return schema
}
const render = (doc) => {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version
  document.getElementById("desc").textContent = doc.info.description || ""
  const root = document.getElementById("api")
  root.textContent = ""
  const byTag = new Map()
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "default"
      if (!byTag.has(tag)) byTag.set(tag, [])
      byTag.get(tag).push({ path, method: method.toUpperCase(), op })
    }
  }
  for (const [tag, ops] of byTag) {
    root.append(el("h2", { textContent: tag }))
    for (const { path, method, op } of ops) {
      const box = el("div", { className: "op" })
      box.append(el("span", { className: "m " + method, textContent: method }), el("code", { textContent: path }))
      if (op.security && op.security.length) box.append(" ", el("span", { className: "lock", textContent: "bearer token" }))
      const params = (op.parameters || []).map((p) => p.name + " (" + p.in + (p.required ? ", required" : "") + ")")
      if (params.length) box.append(el("div", { textContent: "Parameters: " + params.join(", ") }))
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"]
      if (body) box.append(el("details", {}, el("summary", { textContent: "Request body" }), el("pre", { textContent: JSON.stringify(resolve(doc, body.schema), null, 2) })))
      for (const [status, res] of Object.entries(op.responses || {})) {
        const content = res.content && res.content["application/json"]
        const summary = el("summary", { textContent: status + " " + (res.description || "") })
        box.append(content ? el("details", {}, summary, el("pre", { textContent: JSON.stringify(resolve(doc, content.schema), null, 2) })) : el("div", {}, summary.textContent))
      }
      root.append(box)
    }
  }
}
fetch("openapi.json").then((r) => r.json()).then(render, (e) => { document.getElementById("api").textContent = "Could not load openapi.json: " + e })
</script>
</body>
</html>`

export const DocsRoute = HttpRouter.add("GET", "/docs", HttpServerResponse.html(page))
