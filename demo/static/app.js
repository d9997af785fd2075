// The demo page: who you are, what your Slack shows, and what you do, sent to the server.
// All text reaches the page through textContent (blockkit.js's el), never innerHTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = BK.el;
  const params = new URLSearchParams(location.search);
  let me = params.get("as") || localStorage.getItem("clearance-demo-as") || $("person").value;
  let where = location.hash.slice(1) || "C0PATROL";
  let state = null;
  let shownModal = "";
  let homeAsked = "";

  $("person").value = me;

  async function post(what, body) {
    const response = await fetch(`/do/${what}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ as: me, ...body }),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = { failed: "The demo server did not answer." }; }
    return answer;
  }

  function conversationId() {
    if (where === "dm") return state ? state.dm : "";
    if (where === "home") return state ? state.dm : "";
    return where;
  }

  function personName(id) {
    if (!state) return id;
    if (id === state.bot) return "Clearance";
    if (id === "USLACKBOT") return "Slackbot";
    const p = state.people.find((x) => x.id === id);
    return p ? p.name : id;
  }

  function channelName(id) {
    const c = state && state.channels.find((x) => x.id === id);
    return c ? c.name : "";
  }

  function confirmWith(conf) {
    if (!conf) return Promise.resolve(true);
    const dialog = $("confirm");
    $("confirm-title").textContent = BK.plain(conf.title) || "Are you sure?";
    $("confirm-text").replaceChildren(BK.textObject(conf.text, ctxFor({})));
    $("confirm-yes").textContent = BK.plain(conf.confirm) || "Yes";
    $("confirm-deny").textContent = BK.plain(conf.deny) || "Cancel";
    $("confirm-yes").className = conf.style === "danger" ? "bk-button-danger" : "bk-button-primary";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  function ctxFor(extra) {
    return {
      personName, channelName, confirm: confirmWith,
      people: state ? state.people : [], channels: state ? state.channels : [],
      act: () => {}, suggest: () => Promise.resolve([]), ...extra,
    };
  }

  function show(answer) {
    // Slack's own refusals (not a valid command, the app did not answer) arrive as messages;
    // anything else is shown in the status line.
    const quiet = ["", "empty", "not a command"];
    if (answer && answer.failed && !quiet.includes(answer.failed)) $("refused").textContent = answer.failed;
  }

  // ---------------------------------------------------------------- rendering

  function renderSidebar() {
    for (const link of document.querySelectorAll("[data-conversation]")) {
      const id = link.dataset.conversation;
      if (id === where) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
      const channel = state.channels.find((c) => c.id === id);
      link.parentElement.hidden = Boolean(channel && !channel.member);
    }
  }

  function renderMessage(m) {
    const channel = m.channel;
    const item = el("li", { class: `message${m.only_for ? " ephemeral" : ""}`, "data-ts": m.ts });
    const when = new Date(m.at);
    item.append(el("div", { class: "meta" },
      el("span", { class: "sender", text: personName(m.user) }),
      el("time", { datetime: m.at, text: Number.isNaN(when.getTime()) ? "" : when.toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" }) }),
      m.edited ? el("span", { text: " (edited)" }) : null));
    const ctx = ctxFor({
      idPrefix: `m${m.ts.replace(".", "")}`,
      act: async (action) => show(await post("click", { channel, ts: m.ts, action })),
    });
    if (m.blocks && m.blocks.length) item.append(BK.blocks(m.blocks, ctx));
    else item.append(BK.mrkdwn(m.text || "", ctx));
    if (m.only_for) item.append(el("span", { class: "only-you", text: "Only visible to you" }));
    return item;
  }

  function renderConversation() {
    const home = where === "home";
    const channel = state.channels.find((c) => c.id === where);
    $("conversation-title").textContent = home ? "Clearance — Home" : where === "dm" ? "Clearance (direct messages)" : `#${channel ? channel.name : where}`;
    $("conversation-purpose").textContent = home ? "Your App Home" : channel ? channel.purpose : "Messages from the bot, only to you";
    $("messages").hidden = home;
    $("home").hidden = !home;
    $("message").placeholder = home ? "Message Clearance, or a slash command" : `Message ${$("conversation-title").textContent}, or a slash command`;
    if (home) {
      const view = state.home;
      const ctx = ctxFor({
        idPrefix: "home",
        act: async (action) => show(await post("click", { view_id: view.id, action })),
      });
      $("home").replaceChildren(view ? BK.blocks(view.blocks, ctx) : el("p", { text: "Loading your App Home…" }));
      return;
    }
    const list = (state.conversations[conversationId()] || []).map(renderMessage);
    const box = $("messages");
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    box.replaceChildren(...(list.length ? list : [el("li", { class: "message", text: "No messages yet." })]));
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
  }

  function renderRefused() {
    const mine = (state.errors || []).slice(-3);
    $("refused").replaceChildren(...mine.map((e) => el("div", { text: `Slack refused ${e.method}${e.where ? ` (${e.where})` : ""}: ${e.errors.join("; ")}` })));
  }

  function modalCtx(view, errors) {
    return ctxFor({
      idPrefix: `v${view.id}`,
      errors,
      act: async (action) => show(await post("click", { view_id: view.id, action, values: BK.values($("modal-body")) })),
      suggest: async (query) => (await post("suggest", { view_id: view.id, ...query })).options || [],
    });
  }

  function renderModal(errors) {
    const dialog = $("modal");
    const view = state.modal;
    if (!view) {
      shownModal = "";
      if (dialog.open) dialog.close();
      return;
    }
    const key = `${view.id}:${view.hash}`;
    if (key === shownModal && !errors) return; // keep what the person has typed
    shownModal = key;
    $("modal-title").textContent = BK.plain(view.title) || "Clearance";
    $("modal-failed").textContent = "";
    $("modal-body").replaceChildren(BK.blocks(view.blocks, modalCtx(view, errors || {})));
    $("modal-submit").hidden = !view.submit;
    $("modal-submit").textContent = BK.plain(view.submit) || "Submit";
    $("modal-close").textContent = BK.plain(view.close) || "Cancel";
    if (!dialog.open) dialog.showModal();
    const first = $("modal-body").querySelector("input,select,textarea,button");
    if (first && !errors) first.focus();
  }

  function render() {
    $("clock").textContent = state.days_on ? `Demo clock: +${state.days_on} day${state.days_on === 1 ? "" : "s"}` : "";
    renderSidebar();
    renderConversation();
    renderRefused();
    renderModal();
  }

  async function refresh() {
    const response = await fetch(`/state?as=${encodeURIComponent(me)}`, { cache: "no-store" });
    if (!response.ok) return;
    state = await response.json();
    if (where === "home" && homeAsked !== me) {
      homeAsked = me;
      post("home", {});
    }
    render();
  }

  // ---------------------------------------------------------------- what people do

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("message");
    const text = input.value;
    if (!text.trim()) return; // Slack's send button does nothing on an empty box
    input.value = "";
    $("refused").textContent = "";
    const answer = await post("message", { channel: conversationId(), text });
    show(answer);
    if (answer.failed && !["not a command"].includes(answer.failed)) input.value = text;
  });

  $("modal-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const view = state.modal;
    if (!view) return;
    const answer = await post("submit", { view_id: view.id, values: BK.values($("modal-body")) });
    if (answer.errors && Object.keys(answer.errors).length) {
      const kept = BK.values($("modal-body"));
      shownModal = "";
      renderModal(answer.errors);
      restore(kept);
      const bad = $("modal-body").querySelector("[aria-invalid]");
      if (bad) bad.focus();
    } else if (answer.failed) {
      $("modal-failed").textContent = answer.failed;
    }
  });

  // After inline errors the modal is drawn again: put back what was typed.
  function restore(values) {
    for (const node of $("modal-body").querySelectorAll("[data-type]")) {
      const v = (values[node.dataset.blockId] || {})[node.dataset.actionId];
      if (!v) continue;
      if ("value" in v && v.value !== null && "value" in node) node.value = v.value;
      if (v.selected_date) node.value = v.selected_date;
      const picked = v.selected_options ? v.selected_options.map((o) => o.value) : v.selected_option ? [v.selected_option.value] : null;
      if (picked) {
        for (const o of node.querySelectorAll("option")) o.selected = picked.includes(o.value);
        for (const i of node.querySelectorAll("input")) i.checked = picked.includes(i.value);
      }
    }
  }

  async function closeModal() {
    const view = state && state.modal;
    if (!view) { $("modal").close(); return; }
    await post("close", { view_id: view.id });
    await refresh();
  }
  $("modal-close").addEventListener("click", closeModal);
  $("modal-x").addEventListener("click", closeModal);
  $("modal").addEventListener("cancel", (event) => { event.preventDefault(); closeModal(); });

  $("person").addEventListener("change", () => {
    me = $("person").value;
    localStorage.setItem("clearance-demo-as", me);
    shownModal = "";
    homeAsked = "";
    refresh();
  });

  $("plus-day").addEventListener("click", async () => show(await post("clock", { days: 1 })));

  function go() {
    where = location.hash.slice(1) || "C0PATROL";
    homeAsked = "";
    if (state) refresh();
  }
  window.addEventListener("hashchange", go);

  // Live: the server says when anything changed; every tab then fetches what its person sees.
  function listen() {
    const source = new EventSource("/events");
    source.onmessage = () => refresh();
    source.onerror = () => { source.close(); setTimeout(listen, 1000); };
  }
  refresh().then(listen);
})();
