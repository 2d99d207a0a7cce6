// gnnviz explorer: the page's code. Reads window.GNNVIZ_EXPLORER_DATA (explorer/data.js, written
// by gnnviz/viz/explorer.py) and draws it with sigma.js + graphology (explorer/vendor/).
// Plain script, no modules and no fetch(): both are refused on file:// pages in Chromium.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const statusEl = $("status");
  // An expected failure the page explains itself (no WebGL, a missing file): shown, not logged as a bug.
  class PageError extends Error {}

  // sigma.js asks for a WebGL context as it loads and throws (an uncaught TypeError) without one,
  // so it is loaded here, and only where a context can be had; it loads while the data decodes.
  const HERE = document.currentScript ? document.currentScript.src : "explorer/explorer.js";
  function hasWebGL() {
    try {
      return !!document.createElement("canvas").getContext("webgl");
    } catch (err) {
      return false;
    }
  }
  const sigmaLoading = hasWebGL() ? new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = new URL("vendor/sigma.min.js", HERE).href;
    s.onload = resolve;
    s.onerror = () => reject(new PageError("explorer/vendor/sigma.min.js did not load; keep explorer.html next to its explorer/ folder"));
    document.head.appendChild(s);
  }) : null;
  if (sigmaLoading) sigmaLoading.catch(() => {}); // reported when main() awaits it

  function showError(message) {
    statusEl.textContent = message;
    statusEl.classList.add("error");
  }

  // ------------------------------------------------------------------ data

  const CTORS = { f4: Float32Array, f2: Uint16Array, i4: Int32Array, u2: Uint16Array, u1: Uint8Array };

  // float16 (attention weights) to float32, through a table of all 65536 halves (no Float16Array
  // needed: older browsers lack it).
  let HALF = null;
  function halves(bits) {
    if (!HALF) {
      HALF = new Float32Array(65536);
      for (let h = 0; h < 65536; h++) {
        const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
        HALF[h] = sign * (e === 0 ? (m / 1024) * 2 ** -14 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15));
      }
    }
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = HALF[bits[i]];
    return out;
  }

  function base64Bytes(text) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // Inverse of explorer.py's encode_array: base64 -> inflate -> un-shuffle bytes -> typed array.
  async function decode(entry) {
    const Ctor = CTORS[entry.dtype];
    const k = Ctor.BYTES_PER_ELEMENT;
    const raw = await inflate(base64Bytes(entry.data));
    let bytes = raw;
    if (k > 1) {
      const n = raw.length / k;
      bytes = new Uint8Array(raw.length);
      for (let b = 0; b < k; b++) {
        const off = b * n;
        for (let i = 0; i < n; i++) bytes[i * k + b] = raw[off + i];
      }
    }
    const values = new Ctor(bytes.buffer, 0, bytes.length / k);
    return entry.dtype === "f2" ? halves(values) : values;
  }

  // ------------------------------------------------------------------ colours

  const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const TAB20 = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
    "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"];
  const VIRIDIS = ["#440154", "#472c7a", "#3b518b", "#2c718e", "#21908d", "#27ad81", "#5cc863", "#aadc32", "#fde725"];
  // RdBu without its near-white middle: values near 0 are a mid grey, not white on the white page.
  const DIVERGING = ["#2166ac", "#4393c3", "#92c5de", "#c4c4c4", "#f4a582", "#d6604d", "#b2182b"];
  const MISSING = "#dedede"; // no value (a lone self-loop): lighter than lift's grey 0
  const RIGHT = "#bdbdbd";
  const WRONG = "#d62728";
  const DIM = "#ebebeb";

  function hexRgb(hex) {
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }
  function ramp(stops, t) {
    if (!(t >= 0)) t = 0; // NaN too
    if (t > 1) t = 1;
    const x = t * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2);
    const a = hexRgb(stops[i]), b = hexRgb(stops[i + 1]), f = x - i;
    return "#" + a.map((v, j) => Math.round(v + (b[j] - v) * f).toString(16).padStart(2, "0")).join("");
  }
  // Matplotlib's choice, as in the PNGs: tab10 up to 10 classes, else tab20 (cycled).
  function classColour(c, k) {
    const p = k <= 10 ? TAB10 : TAB20;
    return p[((c % p.length) + p.length) % p.length];
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // The run summary, config and figures: filled first, so they work even where the graph cannot be drawn.
  const liveRenderers = [];
  function fillOtherViews(M) {
    const kv = (obj) => `<table class="kv">${Object.entries(obj).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="text">${escapeHtml(typeof v === "object" && v !== null ? JSON.stringify(v) : v)}</td></tr>`).join("")}</table>`;
    $("view-summary").innerHTML = `<h2>Run summary</h2>${kv(M.summary)}<p>${M.num_nodes} nodes, ${M.num_edges} stored edges.</p>`;
    $("config-text").textContent = M.config || "(no config)";
    $("view-figures").innerHTML = M.figures.length
      ? `<p><a href="index.html">All figures on one page (index.html)</a></p>` + M.figures.map((f) => `<figure><a href="${escapeHtml(f.path)}"><img src="${escapeHtml(f.path)}" alt="${escapeHtml(f.caption)}" loading="lazy"></a><figcaption>${escapeHtml(f.caption)}</figcaption></figure>`).join("")
      : "<p>No static figures listed.</p>";
    for (const b of document.querySelectorAll("nav button")) {
      b.addEventListener("click", () => {
        for (const o of document.querySelectorAll("nav button")) o.classList.toggle("active", o === b);
        for (const s of document.querySelectorAll(".view")) s.classList.toggle("active", s.id === `view-${b.dataset.view}`);
        // A hidden container has no size: sigma must measure again when the graph comes back.
        if (b.dataset.view === "graph") for (const r of liveRenderers) { r.resize(); r.refresh(); }
      });
    }
  }

  // ------------------------------------------------------------------ main

  async function main() {
    const D = window.GNNVIZ_EXPLORER_DATA;
    if (!D) throw new PageError("explorer/data.js did not load; keep explorer.html next to its explorer/ folder");
    if (typeof DecompressionStream === "undefined") throw new PageError("this browser has no DecompressionStream; use a current Chromium or Firefox");
    const M = D.meta;
    const N = M.num_nodes;
    fillOtherViews(M);
    const A = {};
    const phases = {}; // ms since navigation start at the end of each phase, for the bench
    phases.scripts = performance.now();
    await Promise.all(Object.entries(D.arrays).map(async ([k, e]) => { A[k] = await decode(e); }));
    phases.decode = performance.now();

    const K = M.num_classes;
    const names = M.class_names;
    const className = (c) => (names ? `${names[c]} (${c})` : `class ${c}`);
    // One rule for every number the page prints (weights, coefficients, entropies, probabilities):
    // three significant figures, so 0.00673 and 0.00574 differ where three decimals read 0.007 and
    // 0.006 (a weight near 1/deg on a hub); scientific notation below 1e-4.
    const fx = (v) => {
      if (!Number.isFinite(v)) return "n/a";
      if (v === 0) return "0";
      return Math.abs(v) < 1e-4 ? v.toExponential(2) : v.toPrecision(3);
    };
    const indptr = A.indptr, src = A.src;
    const degree = A.degree;

    // Multi-label: per-node positive counts and F1 (wrong when below 0.5, as in the PNGs).
    let wrong, trueCount, predCount, nodeF1;
    if (M.multilabel) {
      wrong = new Uint8Array(N); trueCount = new Int32Array(N); predCount = new Int32Array(N); nodeF1 = new Float32Array(N);
      for (let v = 0; v < N; v++) {
        let tp = 0, t = 0, p = 0;
        for (let c = 0; c < K; c++) {
          const yt = A.y[v * K + c] > 0, yp = A.prob[v * K + c] > M.fixed_point / 2;
          t += yt; p += yp; tp += yt && yp;
        }
        trueCount[v] = t; predCount[v] = p;
        nodeF1[v] = t + p > 0 ? (2 * tp) / (t + p) : 1;
        wrong[v] = nodeF1[v] < 0.5;
      }
    } else {
      wrong = new Uint8Array(N);
      for (let v = 0; v < N; v++) wrong[v] = A.pred[v] !== A.y[v];
    }

    // ---------------------------------------------------------------- neighbourhoods
    // A layer's weights are in page order (see explorer.py): per target, self-loop first.
    function rowOf(layerMeta, prefix, v) {
      if (layerMeta.shared) {
        const a = indptr[v], b = indptr[v + 1];
        const sources = [v];
        for (let j = a; j < b; j++) sources.push(src[j]);
        return { sources, start: a + v };
      }
      const ip = A[prefix + "indptr"], s = A[prefix + "src"];
      return { sources: Array.from(s.subarray(ip[v], ip[v + 1])), start: ip[v] };
    }
    // In-degree of v in layer l, self-loop included: the number of weights uniform attention shares.
    const rowLength = (l, v) => (M.layers[l].shared ? indptr[v + 1] - indptr[v] + 1 : A[`l${l}_indptr`][v + 1] - A[`l${l}_indptr`][v]);
    const attWeight = (l, pos, head) => {
      const H = M.layers[l].heads, a = A["att" + l];
      if (head === "mean") {
        let s = 0;
        for (let h = 0; h < H; h++) s += a[pos * H + h];
        return s / H;
      }
      return a[pos * H + head];
    };
    // Incoming neighbourhood of v in the chosen layer: [{u, w, heads: [...], mean}], self first.
    function hood(v, l, head) {
      if (M.layers.length) {
        const L = M.layers[l];
        const { sources, start } = rowOf(L, `l${l}_`, v);
        return sources.map((u, i) => {
          const heads = [];
          for (let h = 0; h < L.heads; h++) heads.push(attWeight(l, start + i, h));
          return { u, heads, mean: attWeight(l, start + i, "mean"), w: attWeight(l, start + i, head) };
        });
      }
      if (M.gcn) {
        const { sources, start } = rowOf(M.gcn, "gcn_", v);
        return sources.map((u, i) => ({ u, w: A.gcn[start + i] }));
      }
      const out = [];
      for (let j = indptr[v]; j < indptr[v + 1]; j++) out.push({ u: src[j], w: null });
      return out;
    }

    // ---------------------------------------------------------------- state and per-node values
    const state = { colour: "class", layer: 0, head: 0, projection: 0, selected: null, hoodSet: new Set(), focus: [], explained: null };

    // ---------------------------------------------------------------- explanations (explorer/explain.js, gnnviz explain)
    // EX: null where nothing was explained (the page is as it was before explanations existed).
    const XD = window.GNNVIZ_EXPLORER_EXPLAIN || null;
    const EX = XD && XD.explained;
    // XE: where gnnviz explain --out wrote explanations this page does not show (or null).
    const XE = (XD && XD.elsewhere) || null;
    state.method = EX && EX.methods.length ? EX.methods[0] : null; // null: off, lines show the incoming weights
    // One explained node's computation edges with the chosen method's scores, each node pair once
    // with the larger of its two directions (as explain's node-N.png): [{u, t, s}], and the scale.
    function explanationEdges(v, method) {
      const X = EX.nodes[String(v)], sc = X.methods[method].scores, e = X.edges;
      const best = new Map();
      for (let i = 0; i < sc.length; i++) {
        const a = e[2 * i], b = e[2 * i + 1], key = a < b ? `${a},${b}` : `${b},${a}`;
        const old = best.get(key), truth = !!(X.truth && X.truth[i]);
        if (!old || sc[i] > old.s) best.set(key, { u: a, t: b, s: sc[i], truth: truth || (old ? old.truth : false) });
        else if (truth) old.truth = true; // a pair is in the known explanation where either direction is
      }
      const pairs = [...best.values()];
      let low = Infinity, high = -Infinity;
      for (const p of pairs) { if (p.s < low) low = p.s; if (p.s > high) high = p.s; }
      if (!pairs.length) low = high = 0;
      // Linear from the lowest score to the highest, as in node-N.png; all equal: mid (or nothing, at 0).
      for (const p of pairs) p.share = high > low ? (p.s - low) / (high - low) : high > 0 ? 0.5 : 0;
      return { pairs, low, high };
    }
    const headFor = (l) => {
      const H = M.layers[l].heads;
      if (H === 1) return 0;
      return state.head === "mean" || state.head >= H ? "mean" : state.head;
    };
    const headName = (l) => {
      const h = headFor(l), H = M.layers[l].heads;
      return h === "mean" ? `mean of ${H} heads` : `head ${h}${H > 1 ? ` of ${H}` : ""}`;
    };
    function perNode(kind, l, v) { // kind: "ent" | "lift"
      const L = M.layers[l], h = headFor(l);
      if (h === "mean") {
        const m = A[kind + "m" + l];
        return m ? m[v] : NaN;
      }
      const a = A[kind + l];
      return a ? a[v * L.heads + h] : NaN;
    }
    // KL(attention || uniform) = log(in-degree) - H, clipped at 0 (float rounding), as
    // gnnviz/analysis/run.py's LayerEntropy.kl and entropy.png: raw H grows as log(degree) even for
    // uniform attention, so colouring by H draws a degree map. NaN for a node whose only incoming
    // edge is its self-loop: it has nothing to choose among.
    function klOf(l, v) {
      const d = rowLength(l, v);
      if (d <= 1) return NaN;
      return Math.max(Math.log(d) - perNode("ent", l, v), 0);
    }
    const KL_FLOOR = 1e-6; // analysis/attention.py's KL_FLOOR: uniform to float32 precision
    const hasEntropy = M.layers.some((L) => L.entropy);
    const hasLift = M.layers.some((L) => L.lift);

    const colourModes = [["class", M.multilabel ? "true labels (count)" : "class"], ["prediction", M.multilabel ? "predicted labels (count)" : "prediction"],
      ["error", M.multilabel ? "error (node F1 < 0.5)" : "error"], ["degree", "degree"]];
    if (hasEntropy) colourModes.push(["kl", "attention: KL from uniform"]);
    if (hasLift) colourModes.push(["lift", "attention lift"]);

    // ---------------------------------------------------------------- controls: filled before the graph is drawn, so
    // they read right even where it cannot be (no WebGL)
    const fill = (sel, options, value) => {
      sel.innerHTML = options.map(([v, t]) => `<option value="${v}">${escapeHtml(t)}</option>`).join("");
      sel.value = String(value);
    };
    fill($("colour"), colourModes, state.colour);
    const layerSel = $("layer"), headSel = $("head");
    function fillHeads() {
      if (!M.layers.length) return;
      const H = M.layers[state.layer].heads;
      const opts = Array.from({ length: H }, (_, k) => [k, `head ${k}`]);
      if (H > 1) opts.push(["mean", "mean over heads"]);
      fill(headSel, opts, headFor(state.layer));
    }
    if (M.layers.length) {
      state.head = M.layers[0].heads > 1 ? "mean" : 0;
      fill(layerSel, M.layers.map((L, l) => [l, `layer ${l} (${L.heads} head${L.heads > 1 ? "s" : ""})`]), 0);
      fillHeads();
    } else {
      layerSel.disabled = headSel.disabled = true;
      fill(layerSel, [["", M.gcn ? "GCN: fixed weights" : "no attention"]], "");
      fill(headSel, [["", M.gcn ? "no heads (GCN)" : "no heads"]], "");
    }
    if (EX) { // the method whose scores the lines show; off: the incoming weights, as without explanations
      $("projection").closest("label").insertAdjacentHTML("afterend", '<label title="gnnviz explain’s edge scores, drawn on an explained node’s computation edges">Explanation <select id="explain-method"></select></label>');
      fill($("explain-method"), [...EX.methods.map((m) => [m, m]), ["", "off: weights"]], state.method ?? "");
    }
    if (M.tsne.length) fill($("projection"), M.tsne.map((p, k) => [k, p.title]), 0);
    else { $("projection").disabled = true; }

    // Colours and the legend for the current mode: [N] CSS colours.
    function computeColours() {
      const mode = state.colour;
      const colours = new Array(N);
      let legend;
      const continuous = (values, label, lo, hi, stops, show = fx) => {
        for (let v = 0; v < N; v++) {
          const x = values(v);
          colours[v] = Number.isFinite(x) ? ramp(stops, hi > lo ? (x - lo) / (hi - lo) : 0.5) : MISSING;
        }
        legend = `<div>${label}</div><canvas class="bar" width="160" height="10"></canvas><div class="ends"><span>${show(lo)}</span><span>${show(hi)}</span></div>`;
        return stops;
      };
      const range = (f) => {
        let lo = Infinity, hi = -Infinity;
        for (let v = 0; v < N; v++) { const x = f(v); if (Number.isFinite(x)) { if (x < lo) lo = x; if (x > hi) hi = x; } }
        return lo <= hi ? [lo, hi] : [0, 1];
      };
      let stops = null;
      if ((mode === "class" || mode === "prediction") && !M.multilabel) {
        const arr = mode === "class" ? A.y : A.pred;
        for (let v = 0; v < N; v++) colours[v] = classColour(arr[v], K);
        legend = `<div>${mode}</div>` + Array.from({ length: K }, (_, c) => `<div><span class="swatch" style="background:${classColour(c, K)}"></span>${escapeHtml(className(c))}</div>`).join("");
      } else if (mode === "class" || mode === "prediction") {
        const arr = mode === "class" ? trueCount : predCount;
        const f = (v) => arr[v];
        const [lo, hi] = range(f);
        stops = continuous(f, mode === "class" ? "positive labels (true)" : "positive labels (predicted)", lo, Math.max(hi, lo + 1), VIRIDIS);
      } else if (mode === "error") {
        let count = 0;
        for (let v = 0; v < N; v++) { colours[v] = wrong[v] ? WRONG : RIGHT; count += wrong[v]; }
        legend = `<div><span class="swatch" style="background:${WRONG}"></span>${M.multilabel ? "node F1 &lt; 0.5" : "misclassified"} (${count} of ${N}, all splits)</div>` +
          `<div><span class="swatch" style="background:${RIGHT}"></span>right</div>`;
      } else if (mode === "degree") {
        const f = (v) => Math.log1p(degree[v]);
        const [lo, hi] = range(f);
        stops = continuous(f, "degree (log scale)", lo, Math.max(hi, lo + 1e-9), VIRIDIS, (x) => Math.round(Math.expm1(x)));
      } else if (mode === "kl") {
        // On a log axis from the floor, like entropy.png: dark = near uniform, bright = focused.
        const f = (v) => { const k = klOf(state.layer, v); return Number.isFinite(k) ? Math.log10(Math.max(k, KL_FLOOR)) : NaN; };
        // The axis of entropy.png (attention.kl_bins): from the floor to at least 1 nat, so a model whose
        // attention is uniform everywhere is dark everywhere instead of stretching noise over the ramp.
        const lo = Math.log10(KL_FLOOR), hi = Math.max(range(f)[1], 0);
        stops = continuous(f, `KL from uniform attention, layer ${state.layer}, ${headName(state.layer)}</div><div class="note">log(in-degree) \u2212 H in nats, log scale: dark = near uniform, bright = focused`,
          lo, hi, VIRIDIS, (x) => fx(10 ** x));
        let none = 0;
        for (let v = 0; v < N; v++) none += !Number.isFinite(f(v));
        if (none) legend += `<div><span class="swatch" style="background:${MISSING}"></span>self-loop only, nothing to choose (${none} nodes)</div>`;
      } else if (mode === "lift") {
        const f = (v) => perNode("lift", state.layer, v);
        const [lo, hi] = range(f);
        const m = Math.max(Math.abs(lo), Math.abs(hi), 1e-9);
        stops = continuous(f, `lift (same-label mass minus uniform's), layer ${state.layer}, ${headName(state.layer)}`, -m, m, DIVERGING);
      }
      const el = $("legend");
      el.innerHTML = legend;
      const bar = el.querySelector("canvas");
      if (bar && stops) {
        const ctx = bar.getContext("2d");
        for (let x = 0; x < 160; x++) { ctx.fillStyle = ramp(stops, x / 159); ctx.fillRect(x, 0, 1, 10); }
      }
      return colours;
    }

    // ---------------------------------------------------------------- graph
    if (!sigmaLoading) {
      for (const el of document.querySelectorAll("#controls select, #controls input, #controls button")) el.disabled = true;
      $("graph").insertAdjacentHTML("afterbegin", `<div class="no-webgl"><p><strong>This browser gives this page no WebGL, so the graph cannot be drawn.</strong></p>
        <p><em>Run summary</em>, <em>Config</em> and <em>Figures</em> above still work, and <a href="index.html">index.html</a> has every static figure.
        Headless Firefox has no WebGL; a Firefox or Chromium with a display (or Chromium's software WebGL) draws the graph.</p></div>`);
      $("legend").hidden = true;
      document.querySelector("#view-graph aside").hidden = true;
      throw new PageError("this browser gives no WebGL, so the graph cannot be drawn; Run summary, Config and Figures still work");
    }
    await sigmaLoading;
    const G = graphology.Graph;
    // Directed and multi: graphology then checks for neither reverse nor duplicate edges, a third
    // faster to build at 400k edges; each pair is added once below and drawn without arrows.
    const graph = new G({ type: "directed", multi: true, allowSelfLoops: false });
    const ids = Array.from({ length: N }, (_, v) => String(v));
    let maxDeg = 1;
    for (let v = 0; v < N; v++) if (degree[v] > maxDeg) maxDeg = degree[v];
    const base = Math.max(1.2, Math.min(7, 30 / Math.cbrt(Math.max(N, 1))));
    const colours = computeColours();
    for (let v = 0; v < N; v++) {
      graph.addNode(ids[v], {
        x: A.coords[2 * v], y: A.coords[2 * v + 1], label: ids[v], color: colours[v],
        size: base * (1 + 1.8 * Math.sqrt(degree[v] / maxDeg)),
      });
    }
    const rowHas = (t, s) => { // is s a source of t? (rows are sorted)
      let lo = indptr[t], hi = indptr[t + 1] - 1;
      while (lo <= hi) { const mid = (lo + hi) >> 1; if (src[mid] === s) return true; if (src[mid] < s) lo = mid + 1; else hi = mid - 1; }
      return false;
    };
    for (let t = 0; t < N; t++) {
      for (let j = indptr[t]; j < indptr[t + 1]; j++) {
        const s = src[j];
        // One undirected edge per pair: from the lower id's side, or from this side when the reverse is absent.
        if (s < t || !rowHas(s, t)) graph.addEdge(ids[s], ids[t]);
      }
    }
    phases.graph = performance.now();
    const small = N <= 200;
    // Above this many nodes a sigma refresh (every node and edge through the reducers and back to
    // the GPU) takes seconds on a software-WebGL browser, so selecting a node redraws only the
    // overlay below and leaves the rest of the graph as it is; smaller graphs also dim the rest.
    const LARGE = 20000;
    const large = N > LARGE;
    const edgeColour = large ? "rgba(110,110,110,0.12)" : N > 2000 ? "rgba(90,90,90,0.45)" : "rgba(90,90,90,0.75)";

    function nodeReducer(node, data) {
      if (state.selected === null) return small ? { ...data, forceLabel: true } : data;
      const v = +node;
      if (v === state.selected || state.hoodSet.has(v)) return { ...data, zIndex: 2, forceLabel: small };
      return { ...data, color: DIM, label: small ? data.label : "", zIndex: 0 };
    }
    // The selected neighbourhood's edges are drawn by the overlay; the others give way.
    const edgeReducer = (edge, data) => (state.selected === null ? data : { ...data, hidden: true });
    if (typeof Sigma === "undefined") throw new PageError("sigma.js did not define itself: keep explorer.html next to its explorer/ folder");
    let renderer;
    try {
      renderer = new Sigma(graph, $("graph"), {
        ...(large ? {} : { nodeReducer, edgeReducer }), zIndex: !large, allowInvalidContainer: true,
        // One-pixel lines: the cheapest edge program; weights are drawn by the overlay.
        defaultEdgeType: "line", edgeProgramClasses: { line: Sigma.rendering.EdgeLineProgram }, defaultEdgeColor: edgeColour,
        labelRenderedSizeThreshold: small ? 0 : 7, labelDensity: small ? 1 : 0.3, renderEdgeLabels: false,
        minCameraRatio: 0.002, maxCameraRatio: 4,
      });
    } catch (err) {
      throw new PageError(`the graph view needs WebGL, which this browser refused (${err.message})`);
    }

    liveRenderers.push(renderer);
    phases.sigma = performance.now();
    // The overlay: the selected node's incoming edges, thickness = weight (the same scale at every
    // zoom), drawn over sigma's canvases after each of its frames.
    const overlay = document.createElement("canvas");
    overlay.id = "overlay";
    $("graph").appendChild(overlay);
    let overlayDrawn = [];
    function drawOverlay() {
      const box = $("graph"), w = box.clientWidth, h = box.clientHeight, dpr = window.devicePixelRatio || 1;
      if (overlay.width !== Math.round(w * dpr) || overlay.height !== Math.round(h * dpr)) {
        overlay.width = Math.round(w * dpr); overlay.height = Math.round(h * dpr);
        overlay.style.width = `${w}px`; overlay.style.height = `${h}px`;
      }
      const ctx = overlay.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      overlayDrawn = [];
      if (state.selected === null) return;
      const at = (v) => {
        const d = renderer.getNodeDisplayData(String(v));
        const p = renderer.framedGraphToViewport(d);
        return { x: p.x, y: p.y, r: renderer.scaleSize(d.size) };
      };
      const c = at(state.selected);
      ctx.lineCap = "round";
      scaleEl.hidden = !state.explained;
      if (state.explained) {
        const X = state.explained, seen = new Set([state.selected]);
        ctx.strokeStyle = "rgba(217,95,2,0.3)"; // the known explanation (motif): explain's node-N.png's orange
        ctx.lineWidth = 12;
        for (const p of X.pairs) {
          if (!p.truth) continue;
          const a = at(p.u), b = at(p.t);
          ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke();
        }
        for (const p of X.pairs) {
          const a = at(p.u), b = at(p.t), lw = 0.6 + 6 * p.share, alpha = 0.08 + 0.92 * p.share;
          ctx.lineWidth = lw;
          ctx.strokeStyle = `rgba(31,78,153,${alpha.toFixed(3)})`;
          ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke();
          overlayDrawn.push([p.u, p.t, p.s, lw, alpha, p.truth]);
          seen.add(p.u); seen.add(p.t);
        }
        seen.delete(state.selected);
        ctx.font = "12px system-ui, sans-serif";
        ctx.lineJoin = "round";
        const few = seen.size <= 40;
        for (const u of seen) {
          const p = at(u);
          ctx.beginPath(); ctx.arc(p.x, p.y, Math.max(p.r, 2.5), 0, 2 * Math.PI);
          ctx.fillStyle = currentColours[u]; ctx.fill(); ctx.lineWidth = 1; ctx.strokeStyle = "#fff"; ctx.stroke();
          if (few) { ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.strokeText(String(u), p.x + p.r + 3, p.y + 4); ctx.fillStyle = "#111"; ctx.fillText(String(u), p.x + p.r + 3, p.y + 4); }
        }
        ctx.beginPath(); ctx.arc(c.x, c.y, Math.max(c.r, 2.5), 0, 2 * Math.PI);
        ctx.fillStyle = currentColours[state.selected]; ctx.fill(); ctx.lineWidth = 3; ctx.strokeStyle = "#111"; ctx.stroke();
        ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.strokeText(String(state.selected), c.x + c.r + 3, c.y + 4);
        ctx.fillStyle = "#111"; ctx.fillText(String(state.selected), c.x + c.r + 3, c.y + 4);
        return;
      }
      ctx.strokeStyle = "rgba(25,25,25,0.8)";
      for (const [u, wt] of state.focus) {
        const p = at(u), lw = wt === null ? 1.5 : 0.6 + 14 * wt;
        ctx.lineWidth = lw;
        ctx.beginPath(); ctx.moveTo(p.x, p.y); ctx.lineTo(c.x, c.y); ctx.stroke();
        overlayDrawn.push([u, wt, lw]);
      }
      const dot = (v, p, ring) => {
        ctx.beginPath(); ctx.arc(p.x, p.y, Math.max(p.r, 2.5), 0, 2 * Math.PI);
        ctx.fillStyle = currentColours[v]; ctx.fill();
        ctx.lineWidth = ring; ctx.strokeStyle = ring > 1 ? "#111" : "#fff"; ctx.stroke();
      };
      const labels = state.focus.length <= 40;
      ctx.font = "12px system-ui, sans-serif";
      ctx.lineJoin = "round";
      const label = (v, p) => {
        ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.strokeText(String(v), p.x + p.r + 3, p.y + 4);
        ctx.fillStyle = "#111"; ctx.fillText(String(v), p.x + p.r + 3, p.y + 4);
      };
      for (const [u] of state.focus) { const p = at(u); dot(u, p, 1); if (labels) label(u, p); }
      dot(state.selected, c, 3);
      label(state.selected, c);
    }
    // The explanation's scale, over the graph while one is drawn.
    const scaleEl = document.createElement("div");
    scaleEl.id = "explain-scale";
    scaleEl.className = "caption";
    scaleEl.hidden = true;
    $("graph").appendChild(scaleEl);
    renderer.on("afterRender", drawOverlay);

    // The projection (t-SNE, UMAP or PCA): the same nodes (or a sample of them), coloured the same, selected together.
    const tsneGraph = new G({ type: "undirected" });
    let tsneRenderer = null;
    function fillTsne() {
      tsneGraph.clear();
      const k = state.projection;
      if (!M.tsne.length) return;
      const xy = A["tsne" + k], ids = A["tsne_ids" + k];
      const cols = currentColours;
      const s = Math.max(1, Math.min(5, 20 / Math.cbrt(ids.length)));
      for (let i = 0; i < ids.length; i++) {
        tsneGraph.addNode(String(ids[i]), { x: xy[2 * i], y: xy[2 * i + 1], size: s, color: cols[ids[i]], label: String(ids[i]) });
      }
      $("tsne-title").textContent = M.tsne[k].title + (ids.length < N ? ` (a sample: ${ids.length} of ${N} nodes)` : "");
    }
    let currentColours = colours;
    if (M.tsne.length) {
      fillTsne();
      tsneRenderer = new Sigma(tsneGraph, $("tsne"), {
        allowInvalidContainer: true, zIndex: true, labelRenderedSizeThreshold: small ? 0 : 9,
        nodeReducer: (node, data) => {
          if (state.selected === null) return small ? { ...data, forceLabel: true } : data;
          const v = +node;
          if (v === state.selected) return { ...data, highlighted: true, forceLabel: true, zIndex: 3, size: data.size * 2 };
          if (state.hoodSet.has(v)) return { ...data, zIndex: 2 };
          return { ...data, color: DIM, label: "", zIndex: 0 };
        },
      });
      liveRenderers.push(tsneRenderer);
    } else {
      $("tsne").hidden = true;
    }

    function recolour() {
      currentColours = computeColours();
      graph.updateEachNodeAttributes((node, attr) => { attr.color = currentColours[+node]; return attr; }, { attributes: ["color"] });
      tsneGraph.updateEachNodeAttributes((node, attr) => { attr.color = currentColours[+node]; return attr; }, { attributes: ["color"] });
    }

    // ---------------------------------------------------------------- text
    function labelText(v) {
      if (M.multilabel) return `${trueCount[v]} positive labels`;
      return escapeHtml(className(A.y[v]));
    }
    function predictionText(v) {
      if (M.multilabel) return `${predCount[v]} labels predicted, node F1 ${fx(nodeF1[v])}`;
      return `${escapeHtml(className(A.pred[v]))}, p = <span data-field="prob">${fx(A.prob[v])}</span>`;
    }
    // One node's facts, as a table (hover tooltip and the details panel share it).
    function factsTable(v) {
      const rows = [["node", `<span data-field="id">${v}</span>`], [M.multilabel ? "labels" : "class", labelText(v)],
        ["prediction", `<span class="${wrong[v] ? "wrong" : ""}">${predictionText(v)}${wrong[v] ? " (wrong)" : ""}</span>`],
        ["split", M.splits[A.split[v]]], ["degree", `<span data-field="degree">${degree[v]}</span>`]];
      M.layers.forEach((L, l) => {
        if (L.entropy || L.entropy_mean) {
          const d = rowLength(l, v), H = perNode("ent", l, v);
          rows.push([`KL from uniform, layer ${l}`, `<span data-field="kl" data-layer="${l}">${fx(klOf(l, v))}</span> nats (${headName(l)}; entropy H = <span data-field="entropy" data-layer="${l}">${fx(H)}</span> of uniform's log ${d} = ${fx(Math.log(d))})`]);
        }
        if (L.lift || L.lift_mean) rows.push([`lift, layer ${l}`, `<span data-field="lift" data-layer="${l}">${fx(perNode("lift", l, v))}</span> (${headName(l)})`]);
      });
      return `<table class="kv">${rows.map(([k, x]) => `<tr><th>${k}</th><td class="text">${x}</td></tr>`).join("")}</table>`;
    }

    // A node explained with gnnviz explain --out elsewhere: where, and why this page does not show it.
    function elsewhereHtml(v) {
      if (!XE || !XE.nodes.includes(v)) return "";
      const open = XE.index ? `: open <a id="explain-elsewhere-index" href="${escapeHtml(XE.index)}">its index.html</a>` : "";
      return `<p class="hint" id="explain-elsewhere">This node was explained into <code>${escapeHtml(XE.folder)}</code> (gnnviz explain --out)${open}. `
        + `The explorer shows only the explanations in <code>${escapeHtml(XE.shows)}</code>, so that the run folder needs nothing outside it: `
        + "explain without --out to see it here.</p>";
    }

    // The node's explanation (explain.json's numbers), or how to get one.
    function explanationHtml(v) {
      const X = EX.nodes[String(v)];
      if (!X) {
        return elsewhereHtml(v) + `<p class="hint" id="explain-hint">No explanation of this node: <code>${escapeHtml(EX.hint.replace("{node}", String(v)))}</code> explains it `
          + `with the ${Object.keys(EX.nodes).length} nodes explained now.</p>`;
      }
      const keep = `${Math.round(EX.keep * 100)}%`;
      let html = `<h3>Explanation (gnnviz explain; ${X.computation_edges} computation edges${X.truth_edges === null ? "" : `, ${X.truth_edges} of them in the known explanation`})</h3>`;
      html += `<table id="explain-table"><tr><th class="text">method</th>${EX.ground_truth ? '<th title="ROC AUC of the method\u2019s edge scores against the known explanation (motif) over this node\u2019s computation edges">AUC</th>' : ""}`
        + `<th title="1: removing the top ${keep} of the computation edges by score changes the prediction">fid+</th><th title="1: the top ${keep} alone change the prediction">fid\u2212</th><th>highest score</th></tr>`;
      for (const m of EX.methods) {
        const d = X.methods[m], sel = m === state.method ? "sel" : "";
        const top = d.scores.length ? Math.max(...d.scores) : NaN;
        html += `<tr data-method="${escapeHtml(m)}" class="${sel}"><td class="text" title="${escapeHtml(EX.descriptions[m] || "")}">${escapeHtml(m)}</td>`
          + (EX.ground_truth ? `<td data-field="auc">${d.auc === null ? '<span title="all its computation edges are in, or all out of, the known explanation">n/a</span>' : fx(d.auc)}</td>` : "")
          + `<td data-field="fid_plus">${fx(d.fid_plus)}</td><td data-field="fid_minus">${fx(d.fid_minus)}</td><td data-field="top">${fx(top)}</td></tr>`;
      }
      html += "</table>";
      html += `<p class="hint">fid+ and fid\u2212 are PyG\u2019s fidelity of this node with the top ${keep} of its computation edges as the explanation (1: the prediction changes). `;
      if (state.explained) {
        html += `Lines in the graph: ${escapeHtml(state.method)}\u2019s score on each computation edge; width and opacity grow linearly from ${fx(state.explained.low)} (thinnest) to ${fx(state.explained.high)} (thickest).`;
      } else html += "Pick a method under <em>Explanation</em> to draw its scores on the graph.";
      html += "</p>";
      const links = [];
      if (X.figure) links.push(`<a id="explain-figure" href="${escapeHtml(`${EX.href}/${X.figure}`)}">node ${v}\u2019s figure (every method, known explanation marked)</a>`);
      if (EX.index) links.push(`<a href="${escapeHtml(EX.index)}">all explanations</a>`);
      if (links.length) html += `<p>${links.join(" \u00b7 ")}</p>`;
      if (state.explained) {
        const top = state.explained.pairs.slice().sort((a, b) => b.s - a.s || a.u - b.u || a.t - b.t).slice(0, 10);
        html += `<table id="explain-edges"><tr><th>edge</th><th>${escapeHtml(state.method)} score</th></tr>`
          + top.map((p) => `<tr><td><a class="node" data-node="${p.u}">${p.u}</a> \u2013 <a class="node" data-node="${p.t}">${p.t}</a></td><td data-field="score">${fx(p.s)}</td></tr>`).join("")
          + `</table><p class="hint">the ${top.length} highest-scored of ${state.explained.pairs.length} node pairs (a pair: the larger of its two directions\u2019 scores).</p>`;
      }
      return html;
    }

    function detailsHtml(v) {
      let html = `<h2>Node ${v}</h2><p class="hint">Esc, <em>Show whole graph</em> or a click on empty space goes back to the whole graph.</p>${factsTable(v)}`;
      if (M.tsne.length && !tsneGraph.hasNode(String(v))) html += '<p class="hint">Not in the projection\u2019s sample.</p>';
      html += EX ? explanationHtml(v) : elsewhereHtml(v);
      const l = state.layer;
      const entries = hood(v, l, M.layers.length ? headFor(l) : 0);
      const sorted = entries.slice().sort((a, b) => (b.w ?? 0) - (a.w ?? 0) || a.u - b.u);
      const LIMIT = 200;
      const shown = sorted.slice(0, LIMIT);
      // The class as a swatch and its id (name on hover): nine weight columns must fit beside it.
      const classCell = (u) => (M.multilabel ? `<td>${trueCount[u]}</td>`
        : `<td class="text" title="${escapeHtml(className(A.y[u]))}"><span class="swatch" style="background:${classColour(A.y[u], K)}"></span>${A.y[u]}</td>`);
      const srcCell = (u) => `<td data-src="${u}"><a class="node" data-node="${u}">${u}</a>${u === v ? ' <span class="self">self</span>' : ""}</td>${classCell(u)}`;
      if (M.layers.length) {
        const L = M.layers[l], h = headFor(l);
        const deg = entries.length;
        html += `<h3>Incoming attention, layer ${l} (${L.heads} head${L.heads > 1 ? "s" : ""}; edge thickness: ${state.explained ? "the explanation above" : headName(l)})</h3>`;
        const cols = Array.from({ length: L.heads }, (_, k) => k);
        html += `<table id="hood-table" data-layer="${l}"><tr><th>from</th><th class="text">${M.multilabel ? "labels" : "class"}</th>${cols.map((k) => `<th class="${h === k ? "sel" : ""}">h${k}</th>`).join("")}${L.heads > 1 ? `<th class="${h === "mean" ? "sel" : ""}">mean</th>` : ""}`
          + `<th class="sel" title="the ${headName(l)} weight times the in-degree ${deg}: 1 = uniform attention, 2 = twice its share">×<br>uniform</th></tr>`;
        for (const e of shown) {
          html += `<tr>${srcCell(e.u)}${cols.map((k) => `<td data-head="${k}" class="${h === k ? "sel" : ""}">${fx(e.heads[k])}</td>`).join("")}${L.heads > 1 ? `<td data-head="mean" class="${h === "mean" ? "sel" : ""}">${fx(e.mean)}</td>` : ""}`
            + `<td data-head="rel" class="sel">${fx(e.w * deg)}</td></tr>`;
        }
        html += "</table>";
        const sum = entries.reduce((s, e) => s + e.w, 0);
        html += `<p class="hint">${deg} incoming edges incl. self-loop, so uniform attention gives each ${fx(1 / deg)}; weights of ${headName(l)} sum to ${fx(sum)}. × uniform = weight × ${deg}.</p>`;
      } else if (M.gcn) {
        html += `<h3>GCN coefficients D<sup>-1/2</sup>(A+I)D<sup>-1/2</sup> (fixed, not learned; same in every layer; edge thickness: ${state.explained ? "the explanation above" : "share"})</h3>`;
        // The coefficients do not sum to 1 (5.7 at a Cora hub), so shares of the row sum sit beside them.
        const deg = entries.length, sum = entries.reduce((s, e) => s + e.w, 0);
        html += `<table id="hood-table" data-layer="gcn"><tr><th>from</th><th class="text">${M.multilabel ? "labels" : "class"}</th><th>coefficient</th>`
          + `<th title="coefficient / row sum ${fx(sum)}">share</th><th title="share times the in-degree ${deg}: 1 = an even share">×<br>uniform</th></tr>`;
        for (const e of shown) html += `<tr>${srcCell(e.u)}<td data-head="gcn">${fx(e.w)}</td><td data-head="share">${fx(e.w / sum)}</td><td data-head="rel">${fx((e.w / sum) * deg)}</td></tr>`;
        html += "</table>";
        html += `<p class="hint">${deg} incoming edges incl. self-loop; the coefficients sum to ${fx(sum)}, not 1; share = coefficient / ${fx(sum)}, × uniform = share × ${deg}.</p>`;
      } else {
        html += `<h3>Incoming neighbours (this model has no per-edge weights)</h3><table id="hood-table"><tr><th>from</th><th class="text">${M.multilabel ? "labels" : "class"}</th></tr>`;
        for (const e of shown) html += `<tr>${srcCell(e.u)}</tr>`;
        html += "</table>";
      }
      if (sorted.length > LIMIT) html += `<p class="hint">showing the ${LIMIT} heaviest of ${sorted.length}.</p>`;
      return html;
    }

    // ---------------------------------------------------------------- selection
    function refreshAll() {
      if (large) drawOverlay(); else renderer.refresh();
      if (tsneRenderer) tsneRenderer.refresh();
    }
    function select(v, { moveCamera = false } = {}) {
      state.selected = v;
      state.hoodSet = new Set();
      state.focus = []; // [source, weight] of the incoming edges drawn, self-loop excluded
      state.explained = null; // the selected node's explanation, when one is drawn instead
      if (v === null) {
        $("details").innerHTML = '<p class="hint">Hover a node to see it; click it to see whom it listens to.</p>';
      } else {
        const entries = hood(v, state.layer, M.layers.length ? headFor(state.layer) : 0);
        // GCN's coefficients sum to more than 1 (5.7 at a Cora hub): lines show each one's share of
        // the row sum, so they read on attention's scale (weights that sum to 1).
        const total = !M.layers.length && M.gcn ? entries.reduce((s, e) => s + e.w, 0) : 1;
        for (const e of entries) {
          state.hoodSet.add(e.u);
          if (e.u !== v) state.focus.push([e.u, e.w === null ? null : e.w / total]);
        }
        state.explained = EX && state.method && EX.nodes[String(v)] ? explanationEdges(v, state.method) : null;
        if (state.explained) {
          for (const p of state.explained.pairs) { state.hoodSet.add(p.u); state.hoodSet.add(p.t); }
          scaleEl.textContent = `explanation of node ${v}, ${state.method}: line width and opacity = score, linear from ${fx(state.explained.low)} (thinnest) to ${fx(state.explained.high)} (thickest)`
            + (EX.nodes[String(v)].truth ? "; orange halo: the known explanation (motif)" : "");
        }
        $("details").innerHTML = detailsHtml(v);
      }
      showAll.hidden = v === null;
      refreshAll();
      if (moveCamera && v !== null) {
        hideTooltip(); // the camera moves away from whatever the mouse was over
        // Centre on the node, zoomed so that its whole neighbourhood fits (framed coordinates: the
        // graph spans 0..1 at ratio 1).
        const d = renderer.getNodeDisplayData(String(v));
        let reach = 0.02;
        for (const u of state.hoodSet) {
          const p = renderer.getNodeDisplayData(String(u));
          reach = Math.max(reach, Math.abs(p.x - d.x), Math.abs(p.y - d.y));
        }
        renderer.getCamera().animate({ x: d.x, y: d.y, ratio: Math.min(1.2, 2.3 * reach) }, { duration: 300 });
        const t = tsneRenderer && tsneRenderer.getNodeDisplayData(String(v));
        if (t) tsneRenderer.getCamera().animate({ x: t.x, y: t.y, ratio: Math.min(tsneRenderer.getCamera().ratio, 0.6) }, { duration: 300 });
      }
    }
    // The way back from a selection: the button beside the controls, Escape, or a click on empty space.
    const showAll = $("show-all");
    function showWholeGraph() {
      select(null);
      hideTooltip();
      renderer.getCamera().animatedReset({ duration: 300 });
      if (tsneRenderer) tsneRenderer.getCamera().animatedReset({ duration: 300 });
    }
    showAll.addEventListener("click", showWholeGraph);
    document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && state.selected !== null) showWholeGraph(); });
    $("details").addEventListener("click", (ev) => {
      const a = ev.target.closest("a.node");
      if (a) select(+a.dataset.node, { moveCamera: true });
    });

    // ---------------------------------------------------------------- hover
    const tooltip = $("tooltip");
    let mouse = { x: 0, y: 0 };
    document.addEventListener("mousemove", (ev) => {
      mouse = { x: ev.clientX, y: ev.clientY };
      if (!tooltip.hidden) placeTooltip();
    });
    function hideTooltip() { tooltip.hidden = true; delete tooltip.dataset.node; }
    // After a layer or head switch the facts it shows (entropy, KL, lift of that head) are redrawn.
    function refreshTooltip() { if (!tooltip.hidden && tooltip.dataset.node !== undefined) tooltip.innerHTML = factsTable(+tooltip.dataset.node); }
    function placeTooltip() {
      const r = tooltip.getBoundingClientRect();
      const x = mouse.x + 14 + r.width > window.innerWidth ? mouse.x - 14 - r.width : mouse.x + 14;
      const y = Math.min(mouse.y + 14, window.innerHeight - r.height - 4);
      tooltip.style.left = `${Math.max(0, x)}px`;
      tooltip.style.top = `${Math.max(0, y)}px`;
    }
    for (const r of [renderer, tsneRenderer]) {
      if (!r) continue;
      r.on("enterNode", ({ node }) => {
        tooltip.innerHTML = factsTable(+node);
        tooltip.hidden = false;
        tooltip.dataset.node = node;
        placeTooltip();
      });
      r.on("leaveNode", hideTooltip);
      // Zoom to the neighbourhood as search does; the tooltip goes (the camera moves under the mouse).
      r.on("clickNode", ({ node }) => select(+node, { moveCamera: true }));
      r.on("clickStage", () => select(null));
    }

    // ---------------------------------------------------------------- controls: listeners

    const afterWeightsChange = () => {
      if (state.colour === "kl" || state.colour === "lift") recolour();
      if (state.selected !== null) select(state.selected); else refreshAll();
      refreshTooltip();
    };
    $("colour").addEventListener("change", (ev) => { state.colour = ev.target.value; recolour(); refreshAll(); });
    if (EX) $("explain-method").addEventListener("change", (ev) => { state.method = ev.target.value || null; if (state.selected !== null) select(state.selected); });
    layerSel.addEventListener("change", (ev) => { state.layer = +ev.target.value; fillHeads(); afterWeightsChange(); });
    headSel.addEventListener("change", (ev) => {
      state.head = ev.target.value === "mean" ? "mean" : +ev.target.value;
      afterWeightsChange();
    });
    $("projection").addEventListener("change", (ev) => {
      state.projection = +ev.target.value;
      fillTsne();
      if (tsneRenderer) { tsneRenderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }); tsneRenderer.refresh(); }
    });
    $("search").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("search-id").value.trim();
      const v = Number(text);
      if (!/^\d+$/.test(text) || v >= N) {
        statusEl.textContent = `no node "${text}": ids are 0..${N - 1}`;
        return;
      }
      select(v, { moveCamera: true });
      statusEl.textContent = `node ${v}`;
    });

    // For tests and the console: where a node is drawn, in CSS pixels of the page.
    window.gnnvizExplorer = {
      state, select, renderer, tsneRenderer, graph, phases,
      get overlayDrawn() { return overlayDrawn; }, // [[source, weight, line width px]] of the last overlay frame
      nodeOnPage(v, view = "graph") {
        const r = view === "graph" ? renderer : tsneRenderer;
        const d = r.getNodeDisplayData(String(v));
        const p = r.framedGraphToViewport(d);
        const box = (view === "graph" ? $("graph") : $("tsne")).getBoundingClientRect();
        return { x: box.left + p.x, y: box.top + p.y };
      },
    };
    return graph.size;
  }

  main().then(
    (edges) => {
      const ms = performance.now();
      const n = window.GNNVIZ_EXPLORER_DATA.meta.num_nodes;
      statusEl.textContent = `${n} nodes, ${edges} edges; ready in ${(ms / 1000).toFixed(2)} s`;
      window.gnnvizExplorer.readyMs = ms;
      document.body.dataset.ready = "1";
    },
    (err) => {
      showError(`error: ${err.message}`);
      if (!(err instanceof PageError)) console.error(err);
      document.body.dataset.ready = "error";
    },
  );
})();
