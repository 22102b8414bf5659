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
let shown = null; // the finished run on screen, until something changes the plan

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
  if (s < 1) return "under a second";
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
  // Another file: the last run's result and the table's filter no longer apply.
  $("filter").value = "all";
  $("search").value = "";
  clearResult();
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
  renderGroups();
  $("summary").textContent = view.errors.length
    ? "No groups yet: see the problems on the left."
    : view.left_out ? `${checkSummary(view)} · ${view.left_out}` : checkSummary(view);
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
    // A column picked by hand is what the files report as used: it was not detected.
    if (choices[key]) auto = "automatic";
    else if (detected.length) auto = `automatic: '${detected[0]}'`;
    else if (mapped) auto = "automatic: none found";
    const select = el("select", { id: `col-${role}`, name: key },
      el("option", { value: "", text: auto }),
      OPTIONAL.includes(role) ? el("option", { value: "none", text: "none (not used)" }) : null,
      headers.map((h) => el("option", { value: h.value, text: h.label })));
    select.value = choices[key] || "";
    select.disabled = busy || (role === "org" && $("org").value.trim() !== "");
    select.addEventListener("change", () => {
      choices[key] = select.value || null;
      clearResult();
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
      clearResult();
      runCheck();
    });
    box.append(el("label", { for: select.id }, "Sheet"), select);
  }
  renderAlsoGroupBy(box, headers);
  const row = el("input", { id: "col-header-row", type: "number", min: "1", placeholder: "automatic" });
  row.value = choices.header_row || "";
  row.addEventListener("change", () => {
    const n = parseInt(row.value, 10);
    choices.header_row = n > 0 ? n : null;
    clearResult();
    runCheck();
  });
  box.append(el("label", { for: row.id }, "Header row"), row);
}

/** A kind's name from a column header: lower-case letters, digits and dashes ("Cost Center" -> "cost-center"). */
function kindOf(header) {
  const kind = header.normalize("NFKD").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "").toLowerCase();
  return (kind || "kind").slice(0, 23).replace(/-+$/, "");
}

/** "Also group by": kinds of group beside the department, each from a column, and the path separator. */
function renderAlsoGroupBy(box, headers) {
  const also = choices.also_group_by || [];
  const changed = () => {
    clearResult();
    renderChoices();
    runCheck();
  };
  also.forEach((k, i) => {
    const remove = el("button", { type: "button", class: "secondary", id: `also-remove-${i}`, text: `Remove '${k.kind}'` });
    remove.disabled = busy;
    remove.addEventListener("click", () => {
      choices.also_group_by = also.filter((_, j) => j !== i);
      changed();
    });
    box.append(el("label", { for: remove.id }, `Also group by: ${k.column}`), remove);
  });
  const taken = also.map((k) => k.column);
  const select = el("select", { id: "col-also", name: "also_group_by" },
    el("option", { value: "", text: "no other column" }),
    headers.filter((h) => !taken.includes(h.value)).map((h) => el("option", { value: h.value, text: h.label })));
  select.disabled = busy;
  select.addEventListener("change", () => {
    if (!select.value) return;
    const label = headers.find((h) => h.value === select.value);
    let kind = kindOf(label && label.value ? label.value : select.value);
    while (kind === "department" || also.some((k) => k.kind === kind)) kind = `${kind}-2`;
    choices.also_group_by = [...also, { kind, column: select.value }];
    changed();
  });
  box.append(el("label", { for: select.id }, "Also group by"), select);
  const separator = el("input", { id: "col-separator", type: "text", placeholder: "none (e.g. ' > ')" });
  separator.value = choices.hierarchy_separator || "";
  separator.disabled = busy;
  separator.addEventListener("change", () => {
    choices.hierarchy_separator = separator.value || null;
    clearResult();
    runCheck();
  });
  box.append(el("label", { for: separator.id }, "Path separator"), separator);
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

/** The order rows are shown in: what needs the person's eye first. */
const RANK = { failed: 0, not_attempted: 1, invalid: 2, skipped: 2, planned: 3 };

/** A row's state as the page tells it: a failed row that was never sent was not attempted. */
function state(g) {
  return g.status === "failed" && g.attempts === 0 && g.note.startsWith("not attempted") ? "not_attempted" : g.status;
}

function matches(g, filter, search) {
  if (filter === "failed" && !["failed", "not_attempted"].includes(state(g))) return false;
  if (filter === "held" && !["invalid", "skipped"].includes(g.status)) return false;
  if (filter === "added" && !["added", "exists", "removed"].includes(g.status)) return false;
  if (!search) return true;
  return `${g.group_id} ${g.group_name} ${g.note}`.toLowerCase().includes(search);
}

/** Page words for a status. */
function statusWord(status) {
  const words = {
    invalid: "held back",
    exists: "already there",
    unchanged: "already there",
    skipped: "held back",
    not_attempted: "not attempted",
    planned: "to send",
    stale: "no longer in the export",
  };
  return words[status] || status;
}

/** One table per organization (failures first), filtered and searched; every row shown. */
function renderGroups() {
  const organizations = shown ? shown.organizations : view ? view.organizations : [];
  const box = $("group-tables");
  box.replaceChildren();
  const filter = $("filter").value;
  const search = $("search").value.trim().toLowerCase();
  const members = organizations.some((o) => o.groups.some((g) => g.members !== null));
  let hidden = 0;
  // A table per organization and kind of group (the department alone: one per organization).
  const units = [];
  for (const org of organizations) {
    const kinds = [...new Set(org.groups.map((g) => g.kind || "department"))];
    for (const kind of kinds) {
      units.push({ id: org.id, kind: kinds.length > 1 || kind !== "department" ? kind : null,
        groups: org.groups.filter((g) => (g.kind || "department") === kind) });
    }
  }
  for (const org of units) {
    const held = org.groups.filter((g) => ["invalid", "skipped"].includes(g.status)).length;
    const caption = `${org.id || "(no organization)"}${org.kind ? ` · ${org.kind}` : ""}: ` +
      `${plural(org.groups.length - held, "group")}` +
      (held ? `, ${plural(held, "row")} held back` : "");
    const rows = org.groups
      .map((g, i) => [g, i])
      .sort(([a, i], [b, j]) => (RANK[state(a)] ?? 4) - (RANK[state(b)] ?? 4) || i - j)
      .map(([g]) => g)
      .filter((g) => matches(g, filter, search));
    hidden += org.groups.length - rows.length;
    if (!rows.length) continue;
    const head = el("tr", {},
      ["Group ID", "Group name", "Rows"].map((t) => el("th", { scope: "col", text: t })),
      members ? el("th", { scope: "col", text: "Members" }) : null,
      ["Status", "Why"].map((t) => el("th", { scope: "col", text: t })));
    const body = rows.map((g) =>
      el("tr", { class: `status-${state(g)}` },
        el("td", { class: "mono", text: g.group_id }),
        g.group_name ? el("td", { text: g.group_name, title: g.path || undefined }) : el("td", { class: "note", text: "(no name)" }),
        el("td", { class: "num", text: String(g.rows), title: g.sources }),
        members ? el("td", { class: "num", text: g.members === null ? "" : String(g.members) }) : null,
        el("td", {}, el("span", { class: "badge", text: statusWord(state(g)) })),
        el("td", { class: "note", text: g.note })));
    box.append(el("div", { class: "table" },
      el("table", {}, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, body))));
  }
  if (hidden) box.append(el("p", { class: "status", id: "hidden-rows", text: `${plural(hidden, "row")} not shown by the filter or search.` }));
}

/** The check's counts, in the table's rows: what will be sent, what is there, what is held back. */
function checkSummary(v) {
  const t = v.tallies && v.tallies.groups;
  if (!t) return v.summary;
  const parts = [];
  if (t.planned) parts.push(`${plural(t.planned, "group")} to send`);
  if (t.already_there) parts.push(`${plural(t.already_there, "group")} already there`);
  if (t.held_back) parts.push(`${plural(t.held_back, "row")} held back`);
  if (t.stale) parts.push(`${plural(t.stale, "group")} no longer in the export`);
  return parts.length ? parts.join(" · ") : "No groups in these files.";
}

/** Why Import cannot send, or null when it can. */
function importBlocked() {
  if (!session.credentials) return "To import, start velt-groups ui with VELT_API_KEY and VELT_AUTH_TOKEN set; a dry run works without them.";
  if (!view) return "Pick a file first.";
  if (view.errors.length) return "Fix the problems on the left first.";
  if (view.nothing_to_send) return view.nothing_to_send;
  return null;
}

function renderSend() {
  const s = view.sending;
  const note = [];
  const blocked = importBlocked();
  if (blocked) note.push(blocked);
  else if (s) {
    const what = [plural(s.groups, "group")];
    if (s.users) what.push(plural(s.users, "organization user"));
    if (s.memberships) what.push(plural(s.memberships, "membership change"));
    note.push(`Import sends ${what.join(", ")} in ${plural(s.requests, "request")} (${s.seconds < 1 ? "" : "about "}${seconds(s.seconds)}).`);
    const held = view.tallies ? view.tallies.groups.held_back : view.held_back;
    if (held) note.push(`${plural(held, "row")} held back (marked in the table) will not be sent.`);
    if (view.removals) note.push(`${plural(view.removals, "member")} would be removed.`);
    if (view.removal_guard) note.push(view.removal_guard);
  }
  $("send-note").textContent = note.join(" ");
  $("import").disabled = busy || !!blocked;
  $("import").title = blocked || "";
  $("dry-run").disabled = busy || !view || view.errors.length > 0;
}

// ---- 4. sending -------------------------------------------------------------------------

function confirmDialog(answer, retry) {
  const reasons = $("confirm-reasons");
  reasons.replaceChildren();
  $("confirm-title").textContent = retry ? "Retry the failed ones?" : "Send to Velt?";
  $("confirm-sentence").textContent = answer.sentence;
  if (answer.held_back) {
    reasons.append(el("li", {
      text: `${plural(answer.held_back, "row")} held back (conflicting names or rows with a problem, marked in the table) will not be sent.`,
    }));
  }
  if (answer.removals) {
    reasons.append(el("li", { text: `${plural(answer.removals, "member")} will be removed from their groups.` }));
  }
  $("confirm-ok").textContent = retry ? "Retry" : answer.held_back ? "Import the rest" : "Import";
  const dialog = $("confirm");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

/** Clears the last run's outcome: something changed the plan it belonged to. */
function clearResult() {
  shown = null;
  $("progress").hidden = true;
  $("progress").className = "";
  $("outcome").textContent = "";
  $("counts").replaceChildren();
  $("downloads").replaceChildren();
  $("stats").textContent = "";
  $("retry").hidden = true;
  if (view) renderGroups();
}

async function send(dryRun, retry) {
  if (busy) return;
  const v = await settled();
  if (!v) return;
  if (v.errors.length) {
    $("send-note").textContent = "Nothing to send yet: fix the problems on the left first.";
    $("problems").focus();
    return;
  }
  const request = { choices: payload(), dry_run: dryRun, retry: !!retry, allow_partial: false, allow_removals: false };
  try {
    if (!dryRun) {
      // The last look: what will happen, where, in one sentence; nothing goes before it.
      const answer = await api("POST", "/api/import", Object.assign({}, request, { preview: true }));
      if (answer.outcome === "stopped") {
        $("send-note").textContent = answer.errors.join(" ");
        return;
      }
      if (!answer.sentence) {
        $("send-note").textContent = view.nothing_to_send || "Nothing to send.";
        return;
      }
      if (!(await confirmDialog(answer, retry))) {
        $("send-note").textContent = "Nothing was sent.";
        return;
      }
      request.allow_partial = true;
      request.allow_removals = true;
    }
    // A new run starts from the check's table: no badge of the last run stays.
    clearResult();
    const answer = await api("POST", "/api/import", request);
    if (answer.outcome === "stopped") {
      $("send-note").textContent = answer.errors.join(" ");
      return;
    }
  } catch (e) {
    $("send-note").textContent = e.message;
    return;
  }
  await follow();
}

function setBusy(on) {
  busy = on;
  for (const node of document.querySelectorAll("main input, main select, main button")) {
    if (node.id === "stop" || node.id === "filter" || node.id === "search") continue;
    node.disabled = on;
  }
  if (!on && view) {
    renderChoices();
    renderSend();
  }
}

/** Polls the run on the server until it ends, then shows its outcome (also after a reload). */
async function follow() {
  setBusy(true);
  $("progress").hidden = false;
  $("progress").className = "";
  $("outcome").textContent = "";
  $("counts").replaceChildren();
  $("downloads").replaceChildren();
  $("retry").hidden = true;
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
  $("stop").hidden = true;
  setBusy(false);
  $("send-note").textContent = "";
  if (view) renderSend();
  if (p && p.finished) {
    showOutcome(p);
    // What Import would do now (with a state file, nothing of what just went).
    if (view) runCheck();
  } else if (p && p.error) {
    $("progress-heading").textContent = "Failed";
    $("progress").className = "outcome-failed";
    $("stats").textContent = "";
    $("outcome").textContent = `The import failed: ${p.error}`;
  }
  // The outcome is what the person waits for: bring it (and the keyboard) there.
  $("progress").scrollIntoView({ block: "nearest" });
  $("outcome").focus({ preventScroll: true });
}

function showProgress(p) {
  $("progress-heading").textContent = p.dry_run ? "Dry run" : p.stopping ? "Stopping" : "Sending";
  const stop = $("stop");
  stop.hidden = !p.running || p.dry_run;
  stop.disabled = p.stopping;
  stop.textContent = p.stopping ? "Stopping…" : "Stop";
  const phase = p.phases[p.phases.length - 1];
  if (!phase) {
    $("stats").textContent = p.running ? (p.dry_run ? "Writing the report…" : "Starting…") : "";
    return;
  }
  $("bar").max = Math.max(phase.total, 1);
  $("bar").value = phase.done;
  const parts = [
    `${phase.what}: ${phase.done} of ${phase.total} answered`,
    `${phase.rate.toFixed(1)} requests/s`,
    plural(phase.retries, "retry", "retries"),
  ];
  if (phase.rate_limited) parts.push(`asked to slow down ${plural(phase.rate_limited, "time")}`);
  if (!p.running) parts.length = 1;
  $("stats").textContent = parts.join(" · ");
}

const KINDS = [
  ["groups", "Groups", "group"],
  ["users", "Organization users", "user"],
  ["memberships", "Memberships", "membership"],
];

/** "260 added · 140 failed (400 groups)": every row of the kind, counted once. */
function countLine(t, noun, dryRun) {
  const parts = [];
  const add = (n, words, cls) => {
    if (n) parts.push(el("span", { class: cls || "", text: `${n} ${words}` }));
  };
  add(t.added, "added", "good");
  add(t.removed, "removed", "good");
  add(t.already_there, "already there");
  add(t.failed, "failed", "bad");
  add(t.not_attempted, "not attempted", "bad");
  add(t.held_back, "held back", "held");
  add(t.planned, dryRun ? "would be sent" : "not sent");
  add(t.stale, "no longer in the export");
  add(t.left_out, "left out (not current)");
  const joined = parts.flatMap((x, i) => (i ? [" · ", x] : [x]));
  return [...joined, ` (${plural(t.total, noun)} in all)`];
}

function showOutcome(p) {
  const f = p.finished;
  const s = f.summary;
  shown = f;
  $("progress-heading").textContent = f.heading;
  $("progress").className = `outcome-${f.kind}`;
  renderGroups();
  const counts = $("counts");
  counts.replaceChildren();
  for (const [key, label, noun] of KINDS) {
    const t = f.tallies[key];
    if (t && t.total) counts.append(el("li", {}, `${label}: `, ...countLine(t, noun, p.dry_run)));
  }
  let text;
  if (p.dry_run) text = "Nothing was sent; the report says what an import would do.";
  else text = `${plural(s.requests, "request")}, ${plural(s.retries, "retry", "retries")} in ${seconds(s.elapsed_seconds)}.`;
  if (s.rate_limited) text += ` The server asked to slow down ${plural(s.rate_limited, "time")}; it ended at ${s.final_rate.toFixed(1)} requests/s.`;
  if (f.kind === "stopped") text += " Stopped by you: what was confirmed is in the report; Retry the failed ones (or Import again) sends the rest.";
  else if (s.stopped) text += ` ${s.stopped}`;
  $("outcome").textContent = text;
  $("stats").textContent = "";
  const links = f.reports.map((name) => {
    const kind = name.endsWith(".xlsx") ? "XLSX" : "CSV";
    const href = `/report/${p.job}/${encodeURIComponent(name)}?token=${token}`;
    return el("a", { href, download: name, id: `report-${kind.toLowerCase()}` }, `Download the report (${kind})`);
  });
  $("downloads").replaceChildren(...links.flatMap((a, i) => (i ? [" ", a] : [a])));
  const missed = KINDS.some(([key]) => f.tallies[key] && (f.tallies[key].failed || f.tallies[key].not_attempted));
  $("retry").hidden = p.dry_run || !missed || !session.credentials;
  // The bar shows what was answered; only a run that got everything done is full.
  if (["imported", "nothing_to_do", "dry_run"].includes(f.kind)) $("bar").value = $("bar").max;
}

async function stopRun() {
  $("stop").disabled = true;
  $("stop").textContent = "Stopping…";
  try {
    await api("POST", "/api/stop");
  } catch (e) {
    $("stats").textContent = `Could not stop: ${e.message}`;
  }
}

// ---- wiring -----------------------------------------------------------------------------

/** After a reload: the run the server holds, followed or shown as it is. */
async function resume() {
  let p;
  try {
    p = await api("GET", "/api/progress");
  } catch (_) {
    return; // no run yet
  }
  if (!p.running && !p.current) return;
  if (p.current) {
    choices = Object.assign({}, p.choices);
    $("org").value = choices.org || "";
    $("members").checked = !!choices.members;
  }
  if (session.files.length) {
    $("pick-status").textContent = `Picked ${session.files.join(", ")}.`;
    if (!p.running) await runCheck();
  }
  if (p.running) {
    await follow();
    if (session.files.length && !view) await runCheck();
  } else {
    $("progress").hidden = false;
    showProgress(p);
    if (p.finished) showOutcome(p);
  }
}

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
    if (shown) clearResult();
    if (view) {
      scheduleCheck();
      // The check of the new organization is pending: Import checks first, then decides.
      $("import").disabled = busy || !session.credentials;
      $("dry-run").disabled = busy;
    }
  });
  $("org").addEventListener("change", () => {
    if (debounce) runCheck();
  });
  $("members").addEventListener("change", () => {
    clearResult();
    if (view) runCheck();
  });
  $("filter").addEventListener("change", renderGroups);
  $("search").addEventListener("input", renderGroups);
  $("dry-run").addEventListener("click", () => send(true, false));
  $("import").addEventListener("click", () => send(false, false));
  $("retry").addEventListener("click", () => send(false, true));
  $("stop").addEventListener("click", stopRun);
  await resume();
}

init();
