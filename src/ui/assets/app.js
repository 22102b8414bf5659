// velt-groups ui: pick files, see what was found, send. Every API call carries the token in a
// header; every text from a file is set as text, never as HTML.
"use strict";

const token = document.querySelector('meta[name="velt-groups-token"]').content;
const $ = (id) => document.getElementById(id);

const ROLES = [
  ["name_column", "name", "Department"],
  ["id_column", "id", "Department code"],
  ["org_column", "org", "Organization"],
  ["user_column", "user", "User ID"],
  ["status_column", "status", "Status"],
  ["end_date_column", "end_date", "End date"],
  ["start_date_column", "start_date", "Start date"],
];
// Roles a file may do without: their dropdown offers "none" (the column is not used).
const OPTIONAL = ["status", "end_date", "start_date"];

let session = null; // where the page writes to, and the starting choices
let choices = {}; // sent with every check and import
let view = null; // the latest check's answer
let checking = null; // the check under way, if any
let checkSeq = 0;
let debounce = null;
let busy = false;

/** Calls the API; throws with the server's message on an error status. */
async function api(method, path, body, raw) {
  const headers = { "x-velt-groups-token": token };
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["content-type"] = "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (_) {
    json = null;
  }
  if (!response.ok) {
    throw new Error((json && json.error) || text || response.statusText);
  }
  return json;
}

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function plural(n, noun, many) {
  return `${n} ${n === 1 ? noun : many || noun + "s"}`;
}

function seconds(s) {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

function payload() {
  const c = Object.assign({}, choices);
  c.org = $("org").value.trim() || null;
  c.members = $("members").checked;
  return c;
}

// ---- 1. picking -------------------------------------------------------------------------

async function pick(files) {
  if (!files || !files.length || busy) return;
  const names = Array.from(files, (f) => f.name).join(", ");
  $("pick-status").textContent = `Reading ${names}…`;
  // Columns chosen for other files do not apply to these.
  for (const [key] of ROLES) choices[key] = null;
  choices.sheet = null;
  choices.header_row = null;
  try {
    await api("DELETE", "/api/files");
    for (const file of files) {
      await api("PUT", "/api/files?name=" + encodeURIComponent(file.name), undefined, file);
    }
    $("pick-status").textContent = `Picked ${names}.`;
  } catch (e) {
    $("pick-status").textContent = `Could not read the files: ${e.message}`;
    return;
  }
  await runCheck();
}

// ---- 2. checking ------------------------------------------------------------------------

function runCheck() {
  clearTimeout(debounce);
  debounce = null;
  const seq = ++checkSeq;
  $("summary").textContent = "Checking…";
  const done = api("POST", "/api/check", payload()).then(
    (v) => {
      if (seq === checkSeq) {
        view = v;
        render();
      }
    },
    (e) => {
      if (seq === checkSeq) {
        view = null;
        $("summary").textContent = `The check failed: ${e.message}`;
      }
    },
  );
  checking = done;
  return done;
}

function scheduleCheck() {
  clearTimeout(debounce);
  debounce = setTimeout(runCheck, 500);
}

/** The latest check's answer, once every pending change has been checked. */
async function settled() {
  if (debounce) runCheck();
  let current;
  do {
    current = checking;
    await current;
  } while (current !== checking);
  return view;
}

function render() {
  // Rebuilt controls keep the keyboard focus where it was.
  const focused = document.activeElement ? document.activeElement.id : "";
  $("found").hidden = false;
  $("groups").hidden = false;
  $("send").hidden = false;
  renderFiles();
  renderChoices();
  renderProblems();
  renderGroups(view.organizations, $("group-tables"));
  $("summary").textContent = view.errors.length
    ? "No groups yet: see the problems on the left."
    : view.left_out ? `${view.summary}. ${view.left_out}` : view.summary;
  renderTarget();
  renderSend();
  if (focused && $(focused) && document.activeElement !== $(focused)) $(focused).focus();
}

function renderTarget() {
  const orgs = view && view.organizations.length
    ? view.organizations.map((o) => o.id).filter((id) => id)
    : [$("org").value.trim()].filter((id) => id);
  const parts = [`Writes to ${session.api_base}`];
  if (orgs.length) parts.push(`organization ${orgs.join(", ")}`);
  parts.push(session.credentials ? "credentials set" : "no credentials (dry run only)");
  if (session.state) parts.push(`state ${session.state}`);
  $("target").textContent = parts.join(" · ");
}

function renderFiles() {
  const list = $("file-list");
  list.replaceChildren();
  for (const f of view.files) {
    const where = [];
    if (f.sheet) where.push(`sheet '${f.sheet}'`);
    if (f.header_row) where.push(`header in row ${f.header_row}`);
    if (f.kind) where.push(f.kind === "employees" ? "an employee list" : "a department list");
    const used = ROLES.filter(([, role]) => f.columns[role]).map(
      ([, role, label]) => `${label}: '${f.columns[role]}'`,
    );
    list.append(
      el("div", { class: "file" },
        el("strong", { text: f.file }),
        el("span", { text: where.length ? ` — ${where.join(", ")}` : "" }),
        used.length ? el("div", { class: "hint", text: used.join("; ") }) : null),
    );
  }
}

/** The column dropdowns: "automatic" or any header of the files read. */
function renderChoices() {
  const box = $("column-choices");
  box.replaceChildren();
  const headers = [];
  const sheets = [];
  for (const f of view.files) {
    f.headers.forEach((h, i) => {
      const value = h || String(i + 1);
      if (!headers.some((x) => x.value === value)) headers.push({ value, label: h || `column ${i + 1} (no header)` });
    });
    for (const s of f.sheets) if (!sheets.includes(s)) sheets.push(s);
  }
  const members = $("members").checked;
  for (const [key, role, label] of ROLES) {
    if (role === "user" && !members) continue;
    const detected = view.files.map((f) => f.columns[role]).filter((c) => c);
    const mapped = view.files.some((f) => f.kind);
    let auto = "automatic";
    if (detected.length) auto = `automatic: '${detected[0]}'`;
    else if (mapped) auto = "automatic: none found";
    const select = el("select", { id: `col-${role}`, name: key },
      el("option", { value: "", text: auto }),
      OPTIONAL.includes(role) ? el("option", { value: "none", text: "none (not used)" }) : null,
      headers.map((h) => el("option", { value: h.value, text: h.label })));
    select.value = choices[key] || "";
    select.disabled = busy || (role === "org" && $("org").value.trim() !== "");
    select.addEventListener("change", () => {
      choices[key] = select.value || null;
      runCheck();
    });
    box.append(el("label", { for: select.id }, label), select);
  }
  if (sheets.length > 1) {
    const select = el("select", { id: "col-sheet", name: "sheet" },
      el("option", { value: "", text: "automatic" }),
      sheets.map((s) => el("option", { value: s, text: s })));
    select.value = choices.sheet || "";
    select.addEventListener("change", () => {
      choices.sheet = select.value || null;
      runCheck();
    });
    box.append(el("label", { for: select.id }, "Sheet"), select);
  }
  const row = el("input", { id: "col-header-row", type: "number", min: "1", placeholder: "automatic" });
  row.value = choices.header_row || "";
  row.addEventListener("change", () => {
    const n = parseInt(row.value, 10);
    choices.header_row = n > 0 ? n : null;
    runCheck();
  });
  box.append(el("label", { for: row.id }, "Header row"), row);
}

function renderProblems() {
  const list = $("problems");
  list.replaceChildren();
  const lines = view.errors.concat(view.problems);
  for (const line of lines) {
    list.append(el("li", { class: line.startsWith("error") ? "error" : "warning", text: line }));
  }
  if (!lines.length) list.append(el("li", { class: "fine", text: "None." }));
  const noOrg = view.errors.some((e) => e.includes("no organization column"));
  $("org").classList.toggle("needed", noOrg);
  $("org-hint").textContent = noOrg
    ? "Type the organization ID these groups belong to (or pick the organization column)."
    : "One organization for every row; leave it empty to use the organization column.";
}

/** One table per organization: group ID, name, rows, members, status and why. */
function renderGroups(organizations, box) {
  box.replaceChildren();
  const members = organizations.some((o) => o.groups.some((g) => g.members !== null));
  for (const org of organizations) {
    const held = org.groups.filter((g) => g.status === "invalid").length;
    const caption = `${org.id || "(no organization)"}: ${plural(org.groups.length - held, "group")}` +
      (held ? `, ${held} held back` : "");
    const head = el("tr", {},
      ["Group ID", "Group name", "Rows"].map((t) => el("th", { scope: "col", text: t })),
      members ? el("th", { scope: "col", text: "Members" }) : null,
      ["Status", "Why"].map((t) => el("th", { scope: "col", text: t })));
    const rows = org.groups.map((g) =>
      el("tr", { class: `status-${g.status}` },
        el("td", { class: "mono", text: g.group_id }),
        g.group_name ? el("td", { text: g.group_name }) : el("td", { class: "note", text: "(no name)" }),
        el("td", { class: "num", text: String(g.rows), title: g.sources }),
        members ? el("td", { class: "num", text: g.members === null ? "" : String(g.members) }) : null,
        el("td", {}, el("span", { class: "badge", text: g.status })),
        el("td", { class: "note", text: g.note })));
    box.append(el("div", { class: "table" },
      el("table", {}, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, rows))));
  }
}

function renderSend() {
  const s = view.sending;
  const note = [];
  if (view.errors.length) note.push("Fix the problems on the left first.");
  else if (s) {
    const what = [plural(s.groups, "group")];
    if (s.users) what.push(plural(s.users, "organization user"));
    if (s.memberships) what.push(plural(s.memberships, "membership change"));
    note.push(`Import sends ${what.join(", ")} in ${plural(s.requests, "request")} (about ${seconds(s.seconds)}).`);
    if (view.held_back) note.push(`${view.held_back} held back (marked in the table) will not be sent.`);
    if (view.removals) note.push(`${plural(view.removals, "member")} would be removed.`);
    if (view.removal_guard) note.push(view.removal_guard);
  }
  if (!session.credentials) {
    note.push("To import, start velt-groups ui with VELT_API_KEY and VELT_AUTH_TOKEN set; a dry run works without them.");
  }
  $("send-note").textContent = note.join(" ");
  $("import").disabled = busy || !session.credentials;
  $("dry-run").disabled = busy;
}

// ---- 4. sending -------------------------------------------------------------------------

function confirmDialog(held, removals) {
  const reasons = $("confirm-reasons");
  reasons.replaceChildren();
  if (held) {
    reasons.append(el("li", {
      text: `${plural(held, "group or row", "groups or rows")} held back (conflicting names or rows with a problem, marked in the table) will not be sent; the valid groups will.`,
    }));
  }
  if (removals) {
    reasons.append(el("li", { text: `${plural(removals, "member")} will be removed from their groups.` }));
  }
  $("confirm-ok").textContent = held ? "Import the rest" : "Import";
  const dialog = $("confirm");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function send(dryRun) {
  if (busy) return;
  const v = await settled();
  if (!v) return;
  if (v.errors.length) {
    $("send-note").textContent = "Nothing to send yet: fix the problems on the left first.";
    $("problems").focus();
    return;
  }
  const request = { choices: payload(), dry_run: dryRun, allow_partial: false, allow_removals: false };
  try {
    let answer = await api("POST", "/api/import", request);
    if (answer.outcome === "confirm") {
      if (!(await confirmDialog(answer.held_back, answer.removals))) {
        $("send-note").textContent = "Nothing was sent.";
        return;
      }
      request.allow_partial = true;
      request.allow_removals = true;
      answer = await api("POST", "/api/import", request);
    }
    if (answer.outcome === "stopped") {
      $("send-note").textContent = answer.errors.join(" ");
      return;
    }
  } catch (e) {
    $("send-note").textContent = e.message;
    return;
  }
  await follow(dryRun);
}

function setBusy(on) {
  busy = on;
  for (const node of document.querySelectorAll("main input, main select, main button")) node.disabled = on;
  if (!on && view) {
    renderChoices();
    renderSend();
  }
}

/** Polls the progress until the import ends, then shows its outcome. */
async function follow(dryRun) {
  setBusy(true);
  $("progress").hidden = false;
  $("progress-heading").textContent = dryRun ? "Dry run" : "Sending";
  $("outcome").textContent = "";
  $("downloads").replaceChildren();
  $("bar").value = 0;
  let p;
  try {
    for (;;) {
      p = await api("GET", "/api/progress");
      showProgress(p);
      if (!p.running) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    $("outcome").textContent = `Lost track of the import: ${e.message}`;
  }
  setBusy(false);
  $("send-note").textContent = "";
  if (p && p.finished) showOutcome(p);
  else if (p && p.error) $("outcome").textContent = `The import failed: ${p.error}`;
  // The outcome is what the person waits for: bring it (and the keyboard) there.
  $("progress").scrollIntoView({ block: "nearest" });
  $("outcome").focus({ preventScroll: true });
}

function showProgress(p) {
  const phase = p.phases[p.phases.length - 1];
  if (!phase) {
    $("stats").textContent = p.dry_run ? "Writing the report…" : "Starting…";
    return;
  }
  $("bar").max = Math.max(phase.total, 1);
  $("bar").value = phase.done;
  const parts = [
    `${phase.what}: ${phase.done}/${phase.total} done`,
    `${phase.rate.toFixed(1)} requests/s`,
    plural(phase.retries, "retry", "retries"),
    `the server allowed ${phase.allowed_rate.toFixed(1)} requests/s`,
  ];
  if (phase.rate_limited) parts.push(`asked to slow down ${plural(phase.rate_limited, "time")}`);
  $("stats").textContent = parts.join(" · ");
}

function showOutcome(p) {
  const f = p.finished;
  const s = f.summary;
  $("progress-heading").textContent = p.dry_run ? "Dry run done" : "Done";
  renderGroups(f.organizations, $("group-tables"));
  const counts = Object.entries(s.organizations).map(
    ([org, c]) => `${org}: ${Object.entries(c).map(([st, n]) => `${n} ${st}`).join(", ")}`,
  );
  for (const [org, c] of Object.entries(s.memberships || {})) {
    counts.push(`${org} memberships: ${Object.entries(c).map(([st, n]) => `${n} ${st}`).join(", ")}`);
  }
  let text = counts.join("; ") + ".";
  if (p.dry_run) text = `Nothing was sent. ${text}`;
  else text += ` ${plural(s.requests, "request")}, ${plural(s.retries, "retry", "retries")} in ${seconds(s.elapsed_seconds)}.`;
  if (s.rate_limited) text += ` The server asked to slow down ${plural(s.rate_limited, "time")}; it ended at ${s.final_rate.toFixed(1)} requests/s.`;
  if (s.stopped) text += ` Stopped: ${s.stopped}.`;
  if (!f.complete) text += " Some groups were not imported: see the table.";
  $("outcome").textContent = text;
  const links = f.reports.map((name) => {
    const kind = name.endsWith(".xlsx") ? "XLSX" : "CSV";
    const href = `/report/${p.job}/${encodeURIComponent(name)}?token=${token}`;
    return el("a", { href, download: name, id: `report-${kind.toLowerCase()}` }, `Download the report (${kind})`);
  });
  $("downloads").replaceChildren(...links.flatMap((a, i) => (i ? [" ", a] : [a])));
  $("bar").value = $("bar").max;
}

// ---- wiring -----------------------------------------------------------------------------

async function init() {
  try {
    session = await api("GET", "/api/session");
  } catch (e) {
    $("target").textContent = `Cannot reach velt-groups: ${e.message}`;
    return;
  }
  choices = Object.assign({}, session.choices);
  $("org").value = choices.org || "";
  $("members").checked = !!choices.members;
  renderTarget();
  $("files").addEventListener("change", () => pick($("files").files));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    pick(e.dataTransfer.files);
  });
  $("org").addEventListener("input", () => {
    if (view) scheduleCheck();
  });
  $("org").addEventListener("change", () => {
    if (debounce) runCheck();
  });
  $("members").addEventListener("change", () => {
    if (view) runCheck();
  });
  $("dry-run").addEventListener("click", () => send(true));
  $("import").addEventListener("click", () => send(false));
}

init();
