// The demo page: who you are, what your Slack shows, and what you do, sent to the demo server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let me = params.get("as") || sessionStorage.getItem("as") || "U0OFFICER";
  let here = location.hash.slice(1).split("/")[0] || "C0PATROL";
  let state = null;
  let modalErrors = {};
  let shownModal = undefined;

  const post = (what, body) => fetch(`/do/${what}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ as: me, ...body }),
  }).then((r) => r.json());

  function ctx(extra) {
    const people = state.people, channels = state.channels;
    return {
      people, channels,
      personName: (id) => (id === state.bot ? "Clearance" : (people.find((p) => p.id === id) || {}).name),
      channelName: (id) => (channels.find((c) => c.id === id) || {}).name,
      confirm: (c) => Promise.resolve(!c || window.confirm(`${BK.plain(c.title)}\n\n${BK.plain(c.text)}`)),
      suggest: () => Promise.resolve([]),
      act: () => {},
      ...extra,
    };
  }

  async function refresh() {
    const r = await fetch(`/state?as=${encodeURIComponent(me)}`);
    state = await r.json();
    render();
  }

  function conversationId() {
    return here === "dm" ? state.dm : here;
  }

  function render() {
    $("who").value = me;
    const days = state.days_on ? ` (+${state.days_on} day${state.days_on > 1 ? "s" : ""})` : "";
    $("clock").textContent = `Bot's clock: ${new Date(state.now).toLocaleString()}${days}`;
    for (const a of document.querySelectorAll("[data-conversation]")) {
      if (a.dataset.conversation === here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    const channel = state.channels.find((c) => c.id === here);
    $("title").textContent = here === "home" ? "Clearance — Home" : here === "dm" ? "Clearance — Messages" : `#${channel ? channel.name : here}`;
    $("composer").hidden = here === "home";
    renderRefused();
    renderFeed();
    renderModal();
  }

  function renderRefused() {
    const box = $("refused");
    box.replaceChildren();
    for (const e of (state.errors || []).slice(-3)) {
      box.append(BK.el("div", { class: "refused", text: `Slack refused ${e.method}${e.where ? ` (${e.where})` : ""}: ${e.errors.join("; ")}` }));
    }
  }

  function renderFeed() {
    const feed = $("feed");
    feed.replaceChildren();
    if (here === "home") {
      if (!state.home) feed.append(BK.el("p", { text: "Opening the Home tab…" }));
      else feed.append(BK.blocks(state.home.blocks, ctx({ act: (a) => post("click", { view_id: state.home.id, action: a }).then(done) })));
      return;
    }
    const id = conversationId();
    const messages = state.conversations[id] || [];
    if (!messages.length) feed.append(BK.el("p", { class: "empty", text: "No messages yet." }));
    for (const m of messages) {
      const who = m.user === state.bot ? "Clearance" : m.user === "USLACKBOT" ? "Slackbot" : ctx().personName(m.user) || m.user;
      const box = BK.el("article", { class: `message${m.only_for ? " ephemeral" : ""}`, "data-ts": m.ts, "aria-label": `Message from ${who}` });
      box.append(BK.el("div", {}, BK.el("span", { class: "who", text: who }), BK.el("span", { class: "when", text: new Date(m.at).toLocaleString() })));
      if (m.only_for) box.append(BK.el("div", { class: "only-you", text: "Only visible to you" }));
      const c = ctx({ act: (a) => post("click", { channel: id, ts: m.ts, action: a }).then(done) });
      if (m.blocks && m.blocks.length) box.append(BK.blocks(m.blocks, c));
      else if (m.user === state.bot || m.user === "USLACKBOT") box.append(BK.mrkdwn(m.text || "", c));
      else box.append(BK.el("div", { class: "plain", text: m.text }));
      if (m.edited) box.append(BK.el("span", { class: "edited", text: "(edited)" }));
      feed.append(box);
    }
    feed.scrollTop = feed.scrollHeight;
  }

  function renderModal() {
    const root = $("modal-root");
    const view = state.modal;
    const key = view ? `${view.id}:${view.hash}:${JSON.stringify(modalErrors)}` : null;
    if (key === shownModal) return;
    shownModal = key;
    root.replaceChildren();
    if (!view) return;
    const titleId = "modal-title";
    const form = BK.el("form", { class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, novalidate: true });
    form.append(BK.el("h2", { id: titleId, text: BK.plain(view.title) }));
    const c = ctx({
      errors: modalErrors, idPrefix: view.id,
      act: (a) => post("click", { view_id: view.id, action: a, values: BK.values(form) }).then(done),
      suggest: (q) => post("suggest", { view_id: view.id, ...q }).then((r) => r.options || []),
    });
    form.append(BK.blocks(view.blocks, c));
    const buttons = BK.el("div", { class: "modal-buttons" });
    const close = () => { modalErrors = {}; post("close", { view_id: view.id }).then(done); };
    buttons.append(BK.el("button", { type: "button", class: "bk-button", onclick: close, text: BK.plain(view.close) || "Cancel" }));
    if (view.submit) buttons.append(BK.el("button", { type: "submit", class: "bk-button bk-button-primary", text: BK.plain(view.submit) }));
    form.append(buttons);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      post("submit", { view_id: view.id, values: BK.values(form) }).then((r) => {
        modalErrors = r.errors || {};
        if (r.failed) alert(r.failed);
        shownModal = undefined;
        return refresh();
      });
    });
    form.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
    const backdrop = BK.el("div", { class: "modal-backdrop" }, form);
    root.append(backdrop);
    const first = form.querySelector(".has-error input, .has-error select, .has-error textarea") || form.querySelector("input, select, textarea, button");
    if (first) first.focus();
  }

  function done(answer) {
    if (answer && answer.failed) alert(answer.failed);
    return refresh();
  }

  function go(where) {
    here = where;
    history.replaceState(null, "", `?as=${me}#${where}`);
    if (where === "home") post("home", {}).then(refresh); else render();
  }

  $("who").addEventListener("change", () => {
    me = $("who").value;
    sessionStorage.setItem("as", me);
    modalErrors = {};
    shownModal = undefined;
    history.replaceState(null, "", `?as=${me}#${here}`);
    if (here === "home") post("home", {}).then(refresh); else refresh();
  });
  for (const a of document.querySelectorAll("[data-conversation]")) {
    a.addEventListener("click", (e) => { e.preventDefault(); go(a.dataset.conversation); });
  }
  $("plus-day").addEventListener("click", () => post("clock", { days: 1 }).then(done));
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("box").value.trim();
    if (!text) return; // as in Slack: an empty message is not sent
    $("box").value = "";
    post("message", { channel: conversationId(), text }).then(done);
  });

  const events = new EventSource("/events");
  events.onmessage = () => refresh();
  sessionStorage.setItem("as", me);
  refresh().then(() => { if (here === "home") go("home"); });
})();
