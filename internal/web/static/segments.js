// The visual rule builder of the 客群 editor (docs/SEGMENTS.md). It reads the
// field catalogue from #rule-builder's data-fields, edits the rule as a tree
// of AND/OR groups (each may be negated) and conditions, keeps the JSON in
// the form's textarea (which is what the form posts, and what a user without
// JavaScript edits directly), and asks the server for a live count of the
// customers in the user's scope: POST /segments/count with the session
// cookie and the page's CSRF token, as htmx sends it.
(function () {
  "use strict";
  var root = document.getElementById("rule-builder");
  var area = document.getElementById("segment-rule");
  var out = document.getElementById("segment-count");
  if (!root || !area) { return; }
  var cat = JSON.parse(root.getAttribute("data-fields"));
  var tr = JSON.parse(root.getAttribute("data-i18n"));
  var zh = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var fields = {};
  cat.fields.forEach(function (f) { fields[f.name] = f; });
  var label = function (o) { return zh ? o.label_zh : o.label_en; };

  // The model: a group {kind: "all"|"any", not: bool, kids: [...]}, a
  // condition {field, op, value, window_days, event, channel} or a segment
  // reference {segment: id} (shown read-only).
  function fromRule(r) {
    if (r.not) {
      var inner = fromRule(r.not);
      if (inner.kind) { inner.not = !inner.not; return inner; }
      return { kind: "all", not: true, kids: [inner] };
    }
    if (r.all || r.any) {
      return { kind: r.all ? "all" : "any", not: false, kids: (r.all || r.any).map(fromRule) };
    }
    return JSON.parse(JSON.stringify(r));
  }
  function toRule(n) {
    if (n.kind) {
      var g = {};
      g[n.kind] = n.kids.map(toRule);
      return n.not ? { not: g } : g;
    }
    var c = { field: n.field, op: n.op };
    if (n.value !== undefined && n.op !== "is_null" && n.op !== "is_not_null") { c.value = n.value; }
    if (fields[n.field] && fields[n.field].window) { c.window_days = n.window_days || 30; }
    if (n.event) { c.event = n.event; }
    if (n.channel) { c.channel = n.channel; }
    if (n.segment) { return { segment: n.segment }; }
    return c;
  }

  var model;
  try { model = fromRule(JSON.parse(area.value || '{"all":[]}')); } catch (e) { model = null; }
  if (!model || !model.kind) { model = { kind: "all", not: false, kids: model ? [model] : [] }; }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (k) { if (k) { e.appendChild(k); } });
    return e;
  }
  function option(value, text, selected) {
    var o = el("option", { value: value, text: text });
    if (selected) { o.selected = true; }
    return o;
  }

  function newCondition() {
    var f = cat.fields[0];
    return { field: f.name, op: f.ops[0], value: defaultValue(f, f.ops[0]) };
  }
  function defaultValue(f, op) {
    if (op === "is_null" || op === "is_not_null") { return undefined; }
    var one;
    if (f.type === "enum" || (f.enum && f.enum.length && f.type !== "integer")) { one = f.enum && f.enum.length ? f.enum[0].value : ""; }
    else if (f.type === "boolean") { one = true; }
    else if (f.type === "date") { one = new Date().toISOString().slice(0, 10); }
    else if (f.type === "text") { one = ""; }
    else { one = f.min !== undefined ? f.min : 0; }
    if (f.type === "id" && f.enum && f.enum.length) { one = Number(f.enum[0].value); }
    if (op === "in" || op === "not_in") { return [one]; }
    if (op === "between") { return [one, one]; }
    return one;
  }
  // parseValue reads what an input holds in the field's type.
  function parseOne(f, s) {
    if (f.type === "integer" || f.type === "money" || f.type === "id") {
      var n = Number(String(s).trim());
      return String(s).trim() === "" || isNaN(n) ? String(s) : n;
    }
    if (f.type === "boolean") { return s === "true"; }
    return s;
  }

  function render() {
    root.textContent = "";
    root.appendChild(renderGroup(model, null));
    sync();
  }

  function renderGroup(g, parent) {
    var box = el("div", { "class": "seg-group" + (g.not ? " negated" : "") });
    var kind = el("select", { "class": "seg-kind", "aria-label": tr.all + " / " + tr.any },
      [option("all", tr.all, g.kind === "all"), option("any", tr.any, g.kind === "any")]);
    kind.addEventListener("change", function () { g.kind = kind.value; render(); });
    var not = el("input", { type: "checkbox", "class": "seg-not" });
    not.checked = !!g.not;
    not.addEventListener("change", function () { g.not = not.checked; render(); });
    var head = el("div", { "class": "seg-head" }, [kind, el("label", { "class": "seg-not-label" }, [not, el("span", { text: " " + tr.not })])]);
    var addC = el("button", { type: "button", "class": "seg-add-cond", text: tr.add_cond });
    addC.addEventListener("click", function () { g.kids.push(newCondition()); render(); });
    var addG = el("button", { type: "button", "class": "seg-add-group", text: tr.add_group });
    addG.addEventListener("click", function () { g.kids.push({ kind: "any", not: false, kids: [newCondition()] }); render(); });
    head.appendChild(addC);
    head.appendChild(addG);
    if (parent) {
      var rm = el("button", { type: "button", "class": "seg-remove link-button danger", text: tr.remove });
      rm.addEventListener("click", function () { parent.kids.splice(parent.kids.indexOf(g), 1); render(); });
      head.appendChild(rm);
    }
    box.appendChild(head);
    var list = el("div", { "class": "seg-kids" });
    g.kids.forEach(function (k) { list.appendChild(k.kind ? renderGroup(k, g) : renderCondition(k, g)); });
    box.appendChild(list);
    return box;
  }

  function renderCondition(c, parent) {
    var row = el("div", { "class": "seg-cond" });
    var rm = el("button", { type: "button", "class": "seg-remove link-button danger", text: tr.remove });
    rm.addEventListener("click", function () { parent.kids.splice(parent.kids.indexOf(c), 1); render(); });
    if (c.segment) {
      row.appendChild(el("span", { "class": "seg-ref", text: tr.segment + " #" + c.segment }));
      row.appendChild(rm);
      return row;
    }
    var f = fields[c.field] || cat.fields[0];
    // The field picker, grouped by category.
    var fsel = el("select", { "class": "seg-field", "aria-label": tr.field });
    cat.categories.forEach(function (k) {
      var og = el("optgroup", { label: tr["cat." + k] || k });
      cat.fields.forEach(function (x) { if (x.category === k) { og.appendChild(option(x.name, label(x), x.name === f.name)); } });
      fsel.appendChild(og);
    });
    fsel.addEventListener("change", function () {
      var nf = fields[fsel.value];
      c.field = nf.name;
      c.op = nf.ops.indexOf(c.op) >= 0 ? c.op : nf.ops[0];
      c.value = defaultValue(nf, c.op);
      delete c.event; delete c.channel;
      if (nf.params) { nf.params.forEach(function (p) { if (p.required) { c[p.name] = p.options[0].value; } }); }
      render();
    });
    row.appendChild(fsel);
    // Parameters (the event of event_count) and the window.
    (f.params || []).forEach(function (p) {
      var ps = el("select", { "class": "seg-param seg-param-" + p.name, "aria-label": label(p) });
      if (!p.required) { ps.appendChild(option("", tr.any_channel, !c[p.name])); }
      p.options.forEach(function (o) { ps.appendChild(option(o.value, label(o), c[p.name] === o.value)); });
      if (p.required && !c[p.name]) { c[p.name] = p.options[0].value; }
      ps.addEventListener("change", function () { if (ps.value) { c[p.name] = ps.value; } else { delete c[p.name]; } sync(); });
      row.appendChild(ps);
    });
    if (f.window) {
      if (!c.window_days) { c.window_days = 30; }
      var w = el("input", { type: "number", min: "1", max: "400", "class": "seg-window", "aria-label": tr.window, value: String(c.window_days) });
      w.addEventListener("input", function () { c.window_days = Number(w.value); sync(); });
      row.appendChild(el("label", { "class": "seg-window-label" }, [el("span", { text: tr.window + " " }), w, el("span", { text: " " + tr.days })]));
    }
    // The operator picker, only the operators of the field's type.
    var osel = el("select", { "class": "seg-op", "aria-label": tr.op });
    f.ops.forEach(function (o) { osel.appendChild(option(o, tr["op." + o] || o, o === c.op)); });
    osel.addEventListener("change", function () {
      var was = c.op;
      c.op = osel.value;
      var multi = function (o) { return o === "in" || o === "not_in" || o === "between"; };
      if (multi(was) !== multi(c.op) || was === "between" || c.op === "between" || c.value === undefined) { c.value = defaultValue(f, c.op); }
      render();
    });
    row.appendChild(osel);
    row.appendChild(renderValue(c, f));
    if (f.unit === "yuan") { row.appendChild(el("span", { "class": "muted small", text: zh ? "元" : "CNY" })); }
    row.appendChild(rm);
    return row;
  }

  function renderValue(c, f) {
    var box = el("span", { "class": "seg-value-box" });
    if (c.op === "is_null" || c.op === "is_not_null") { return box; }
    var opts = f.enum && f.enum.length ? f.enum : null;
    if (f.type === "boolean") { opts = [{ value: "true", label_zh: tr.yes, label_en: tr.yes }, { value: "false", label_zh: tr.no, label_en: tr.no }]; }
    if (c.op === "in" || c.op === "not_in") {
      if (opts) {
        var ms = el("select", { multiple: "multiple", "class": "seg-value", "aria-label": tr.value, size: String(Math.min(opts.length, 5)) });
        var vals = (c.value || []).map(String);
        opts.forEach(function (o) { ms.appendChild(option(o.value, label(o), vals.indexOf(String(o.value)) >= 0)); });
        ms.addEventListener("change", function () {
          c.value = Array.prototype.filter.call(ms.options, function (o) { return o.selected; }).map(function (o) { return parseOne(f, o.value); });
          sync();
        });
        box.appendChild(ms);
        return box;
      }
      var t = el("input", { "class": "seg-value", "aria-label": tr.value, placeholder: tr.list_hint, value: (c.value || []).join(", ") });
      t.addEventListener("input", function () {
        c.value = t.value.split(/[,，\s]+/).filter(function (s) { return s !== ""; }).map(function (s) { return parseOne(f, s); });
        sync();
      });
      box.appendChild(t);
      return box;
    }
    var n = c.op === "between" ? 2 : 1;
    for (var i = 0; i < n; i++) {
      box.appendChild(oneInput(c, f, opts, n === 2 ? i : -1));
      if (n === 2 && i === 0) { box.appendChild(el("span", { text: " – " })); }
    }
    return box;
  }

  function oneInput(c, f, opts, idx) {
    var get = function () { return idx < 0 ? c.value : (c.value || [])[idx]; };
    var set = function (v) { if (idx < 0) { c.value = v; } else { c.value[idx] = v; } sync(); };
    var input;
    if (opts) {
      input = el("select", { "class": "seg-value", "aria-label": tr.value });
      opts.forEach(function (o) { input.appendChild(option(o.value, label(o), String(get()) === String(o.value))); });
      input.addEventListener("change", function () { set(parseOne(f, input.value)); });
      return input;
    }
    var type = f.type === "date" ? "date" : (f.type === "text" ? "text" : "number");
    input = el("input", { type: type, "class": "seg-value", "aria-label": tr.value, value: get() === undefined ? "" : String(get()) });
    if (type === "number") { input.setAttribute("step", f.type === "money" ? "0.01" : "1"); }
    if (f.min !== undefined) { input.setAttribute("min", String(f.min)); }
    if (f.max !== undefined) { input.setAttribute("max", String(f.max)); }
    input.addEventListener("input", function () { set(parseOne(f, input.value)); });
    return input;
  }

  // sync writes the JSON into the form and schedules the live count.
  var timer = null, seq = 0;
  function sync() {
    area.value = JSON.stringify(toRule(model));
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(count, 300);
  }
  function count() {
    var mine = ++seq;
    out.className = "segment-count pending";
    out.textContent = tr.counting;
    var body = new URLSearchParams();
    body.set("rule", area.value);
    body.set("csrf", csrf);
    fetch("/segments/count", { method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (mine !== seq) { return; }
        if (res.ok) {
          out.className = "segment-count";
          out.textContent = tr.count.replace("%d", Number(res.j.count).toLocaleString(zh ? "zh-CN" : "en"));
          out.setAttribute("data-count", String(res.j.count));
        } else {
          out.className = "segment-count error";
          out.removeAttribute("data-count");
          out.textContent = tr.error + (res.j.error || "");
        }
      })
      .catch(function () {
        if (mine !== seq) { return; }
        out.className = "segment-count error";
        out.textContent = tr.error;
      });
  }
  // A rule typed in the JSON box is taken into the builder when it parses.
  area.addEventListener("change", function () {
    try { model = fromRule(JSON.parse(area.value)); if (!model.kind) { model = { kind: "all", not: false, kids: [model] }; } render(); }
    catch (e) { out.className = "segment-count error"; out.textContent = tr.bad_json; }
  });
  root.hidden = false;
  render();
})();
