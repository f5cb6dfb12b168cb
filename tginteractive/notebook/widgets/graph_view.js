const SCOPE = /^(scope|stack|cluster):/;
function parse(text) {
  if (!text) return null;
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  if (!svg || svg.nodeName !== "svg") return null;
  svg.querySelectorAll("script, foreignObject").forEach((n) => n.remove());
  for (const node of svg.querySelectorAll("*"))
    for (const a of Array.from(node.attributes))
      if (/^on/i.test(a.name) || /^\s*javascript:/i.test(a.value)) node.removeAttribute(a.name);
  for (const g of svg.querySelectorAll("g.node, g.cluster")) {
    const name = g.querySelector("title")?.textContent ?? "";
    if (SCOPE.test(name)) g.setAttribute("data-tg-scope", name.replace(SCOPE, ""));
    else if (g.classList.contains("tg-op")) g.setAttribute("data-tg-op", name);
  }
  return document.importNode(svg, true);
}
function chip([label, color]) {
  const span = document.createElement("span");
  span.className = "tg-chip";
  span.style.background = color.split(":")[0];
  span.textContent = label;
  return span;
}
function render({ model, el }) {
  el.classList.add("tg-graph");
  el.innerHTML = '<div class="tg-bar"><input class="tg-find" type="search" placeholder=' +
    '"find ops by name, Enter"><span class="tg-status"></span></div><div class="tg-legend">' +
    '</div><div class="tg-canvas"></div><pre class="tg-details"></pre>';
  const $ = (cls) => el.querySelector(cls);
  const draw = () => {
    const svg = parse(model.get("svg"));
    $(".tg-canvas").replaceChildren(...(svg ? [svg] : []));
    $(".tg-status").textContent = model.get("status");
    $(".tg-details").textContent = model.get("details");
    $(".tg-legend").replaceChildren(...model.get("legend").map(chip));
  };
  $(".tg-find").addEventListener("keydown", (e) => {
    if (e.key === "Enter") model.send({ find: e.target.value });
  });
  $(".tg-canvas").addEventListener("click", (e) => {
    const g = e.target.closest("[data-tg-scope], [data-tg-op]");
    if (!g) return;
    const scope = g.getAttribute("data-tg-scope");
    model.send(scope !== null ? { toggle: scope } : { select: g.getAttribute("data-tg-op") });
  });
  const names = ["svg", "status", "details", "legend"];
  names.forEach((n) => model.on(`change:${n}`, draw));
  draw();
  return () => names.forEach((n) => model.off(`change:${n}`, draw));
}
export default { render };
