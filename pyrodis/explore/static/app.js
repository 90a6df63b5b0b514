// pyrodis explore: the page's logic (plain JS, no dependencies; works offline).
"use strict";

const state = { runs: [], matching: null, version: 0 };

async function api(path, method, body) {
  const options = { method: method || "GET" };
  if (body !== undefined) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function setImage(img, blob) {
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  const url = URL.createObjectURL(blob);
  img.dataset.url = url;
  img.src = url;
}

function fmt(x) { return (x >= 0 ? " " : "") + x.toFixed(2); }

// ------------------------------------------------------------------ decoding, newest value wins
function requestDecode(run) {
  if (run.inflight) { run.pending = true; return; }
  run.inflight = true;
  run.pending = false;
  const t0 = performance.now();
  api(`/api/run/${run.id}/decode`, "POST", { z: Array.from(run.z) })
    .then((r) => r.blob())
    .then((blob) => {
      setImage(run.el.live, blob);
      run.el.live.dataset.version = String(++state.version);
      run.el.latency.textContent = `· ${Math.round(performance.now() - t0)} ms`;
    })
    .catch((err) => { run.el.latency.textContent = `· ${err.message}`; })
    .finally(() => {
      run.inflight = false;
      if (run.pending) requestDecode(run);
    });
}

// --------------------------------------------------------------- two runs: matched latents
function partnerOf(runIndex, j) {
  const m = state.matching;
  if (!m) return null;
  if (runIndex === 0) {
    const k = m.partner[j];
    return k >= 0 ? { run: 1, latent: k, sign: m.sign[j] } : null;
  }
  const i = m.partner.indexOf(j);
  return i >= 0 ? { run: 0, latent: i, sign: m.sign[i] } : null;
}

function moveMatch(run, j, value) {
  const p = partnerOf(run.id, j);
  if (!p) return;
  const a = run.latent[j];
  const other = state.runs[p.run];
  const b = other.latent[p.latent];
  if (!a.active || !b.active) return;
  let v = b.center + p.sign * (value - a.center) * (b.spread / a.spread);
  v = Math.min(b.high, Math.max(b.low, v));
  other.z[p.latent] = v;
  const row = other.rows[p.latent];
  row.slider.value = v;
  row.output.value = fmt(v);
  requestDecode(other);
}

// ------------------------------------------------------------------------------- building
function latentRow(run, item) {
  const node = document.getElementById("latent-template").content.firstElementChild.cloneNode(true);
  const j = item.index;
  node.dataset.latent = j;
  node.querySelector(".idx").textContent = `z${j}`;
  node.querySelector(".kl").textContent = `KL ${item.kl.toFixed(2)}`;
  if (item.factor !== undefined) {
    const tag = node.querySelector(".factor");
    tag.textContent = `${item.factor} · ${item.factor_mi.toFixed(2)}`;
    tag.title = `most informative about ${item.factor}: MI / H(factor) = ${item.factor_mi.toFixed(3)}`;
  }
  const p = partnerOf(run.id, j);
  if (p) {
    node.querySelector(".match").textContent = `↔ run ${p.run + 1} z${p.latent} (${p.sign > 0 ? "+" : "−"})`;
    node.querySelector(".match").dataset.partner = p.latent;
    node.querySelector(".match").title = "matched as UDR matches latents: moving this slider moves its match";
  }
  const slider = node.querySelector(".slider");
  slider.min = item.low;
  slider.max = item.high;
  slider.step = (item.high - item.low) / 200 || 0.01;
  slider.dataset.latent = j;
  const output = node.querySelector(".value");
  slider.addEventListener("input", () => {
    const v = parseFloat(slider.value);
    run.z[j] = v;
    output.value = fmt(v);
    requestDecode(run);
    moveMatch(run, j, v);
  });
  const name = node.querySelector(".name");
  name.value = item.name || "";
  name.dataset.latent = j;
  const saved = node.querySelector(".saved");
  const save = () => {
    if (name.value === (run.latent[j].name || "")) return;
    api(`/api/run/${run.id}/names/${j}`, "PUT", { name: name.value })
      .then(() => { run.latent[j].name = name.value.trim(); saved.textContent = run.info.names_saved ? "saved" : "kept (not saved)"; })
      .catch((err) => { saved.textContent = err.message; saved.classList.add("error"); });
  };
  name.addEventListener("change", save);
  name.addEventListener("keydown", (e) => { if (e.key === "Enter") name.blur(); });
  const strip = node.querySelector(".strip");
  const button = node.querySelector(".strip-button");
  button.addEventListener("click", () => {
    if (!strip.hidden) { strip.hidden = true; button.classList.remove("on"); return; }
    api(`/api/run/${run.id}/traversal`, "POST", { z: Array.from(run.z), latent: j, steps: 9 })
      .then((r) => r.blob())
      .then((blob) => { setImage(strip, blob); strip.hidden = false; button.classList.add("on"); });
  });
  run.rows[j] = { slider, output };
  return node;
}

function buildRun(info, id) {
  const node = document.getElementById("run-template").content.firstElementChild.cloneNode(true);
  node.id = `run-${id}`;
  const run = {
    id, info, node, rows: {}, latent: {}, z: new Float64Array(info.latent_dim),
    inflight: false, pending: false,
    el: {
      original: node.querySelector(".original"), recon: node.querySelector(".recon"),
      live: node.querySelector(".live"), latency: node.querySelector(".latency"),
    },
  };
  run.el.live.id = `live-${id}`;
  state.runs.push(run);
  info.latents.forEach((item) => { run.latent[item.index] = item; });
  node.querySelector(".run-name").textContent = (state.total > 1 ? `Run ${id + 1}: ` : "") + info.name;
  const active = info.latents.filter((l) => l.active).length;
  node.querySelector(".run-meta").textContent =
    `${info.latent_dim} latents, ${active} active · q(z) from ${info.num_points.toLocaleString("en")} of ` +
    `${info.num_data.toLocaleString("en")} images` + (info.names_saved ? "" : " · names are kept in memory only");
  const inactive = info.latents.filter((l) => !l.active);
  node.querySelector(".inactive summary").textContent =
    `${inactive.length} inactive latent${inactive.length === 1 ? "" : "s"} (their mean code does not vary with the image)`;
  if (!inactive.length) node.querySelector(".inactive").hidden = true;
  return run;
}

function fillRun(run) {
  const box = run.node.querySelector(".latents");
  const folded = run.node.querySelector(".latents-inactive");
  run.info.latents.forEach((item) => {
    (item.active ? box : folded).appendChild(latentRow(run, item));
  });
}

// ---------------------------------------------------------------------------- starting codes
async function startFrom(kind, index) {
  const status = document.getElementById("start-status");
  status.textContent = "";
  status.classList.remove("error");
  const seed = Math.floor(Math.random() * 2147483647);
  try {
    await Promise.all(state.runs.map(async (run) => {
      const body = { kind, seed, index: index === undefined ? null : index };
      const start = await (await api(`/api/run/${run.id}/start`, "POST", body)).json();
      run.z = Float64Array.from(start.z);
      for (const [j, row] of Object.entries(run.rows)) {
        row.slider.value = run.z[j];
        row.output.value = fmt(run.z[j]);
      }
      if (start.index !== null) {
        const blob = await (await api(`/api/run/${run.id}/image/${start.index}`)).blob();
        setImage(run.el.original, blob);
        run.el.original.parentElement.querySelector("figcaption").textContent = `image ${start.index}`;
        document.getElementById("start-index").value = start.index;
      } else {
        run.el.original.removeAttribute("src");
        run.el.original.parentElement.querySelector("figcaption").textContent = `none (${kind} sample)`;
      }
      const recon = await (await api(`/api/run/${run.id}/decode`, "POST", { z: Array.from(run.z) })).blob();
      setImage(run.el.recon, recon);
      setImage(run.el.live, recon);
      run.el.live.dataset.version = String(++state.version);
    }));
  } catch (err) {
    status.textContent = err.message;
    status.classList.add("error");
  }
}

async function main() {
  const session = await (await api("/api/session")).json();
  state.matching = session.matching;
  state.total = session.runs.length;
  document.body.classList.add(session.runs.length > 1 ? "two-runs" : "one-run");
  const box = document.getElementById("runs");
  session.runs.forEach((info, id) => buildRun(info, id));
  state.runs.forEach((run) => { fillRun(run); box.appendChild(run.node); });
  const names = session.runs.map((r) => r.name).join(" vs ");
  let subtitle = `${names} · move a slider to decode a new image`;
  if (session.matching) subtitle += ` · latents matched as UDR does (UDR ${session.matching.udr.toFixed(2)})`;
  document.getElementById("subtitle").textContent = subtitle;
  const maxIndex = Math.min(...session.runs.map((r) => r.num_data)) - 1;
  const indexBox = document.getElementById("start-index");
  indexBox.max = maxIndex;
  document.getElementById("start-image").addEventListener("click", () => {
    const i = parseInt(indexBox.value, 10);
    startFrom("data", Number.isFinite(i) ? Math.min(maxIndex, Math.max(0, i)) : 0);
  });
  document.getElementById("start-random").addEventListener("click", () =>
    startFrom("data", Math.floor(Math.random() * (maxIndex + 1))));
  document.getElementById("start-prior").addEventListener("click", () => startFrom("prior"));
  document.getElementById("start-posterior").addEventListener("click", () => startFrom("posterior"));
  await startFrom("data", 0);
  document.body.dataset.ready = "1";
}

main().catch((err) => {
  const sub = document.getElementById("subtitle");
  sub.textContent = `The explorer could not load: ${err.message}`;
  sub.classList.add("error");
});
