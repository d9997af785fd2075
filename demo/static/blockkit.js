// Block Kit, rendered in the browser: the blocks, elements and mrkdwn Clearance sends.
// Every piece of text goes into the page through textContent (never innerHTML), so nothing a
// person typed can run. Anything not known here is shown as a visible placeholder.
"use strict";

const BK = (() => {
  const EMOJI = {
    arrows_counterclockwise: "🔄", ballot_box_with_check: "☑️", double_vertical_bar: "⏸️",
    grey_question: "❔", hourglass_flowing_sand: "⏳", inbox_tray: "📥", information_source: "ℹ️",
    large_orange_circle: "🟠", large_yellow_circle: "🟡", leftwards_arrow_with_hook: "↩️", link: "🔗",
    no_entry: "⛔", no_entry_sign: "🚫", pencil2: "✏️", question: "❓", red_circle: "🔴",
    rotating_light: "🚨", speech_balloon: "💬", tada: "🎉", warning: "⚠️", wave: "👋",
    white_check_mark: "✅", white_circle: "⚪", x: "❌", bell: "🔔", memo: "📝", eyes: "👀",
    lock: "🔒", clipboard: "📋", calendar: "📅", mag: "🔍", thumbsup: "👍", "+1": "👍",
    heavy_check_mark: "✔️", hourglass: "⌛", pushpin: "📌", shield: "🛡️", stopwatch: "⏱️",
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function decode(text) {
    // Slack's three escapes; the result is only ever used as textContent.
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function placeholder(what) {
    return el("div", { class: "bk-unknown", role: "note", text: `[${what}: this demo cannot show it]` });
  }

  function formatDate(ts, format, fallback) {
    const when = new Date(Number(ts) * 1000);
    if (Number.isNaN(when.getTime())) return fallback || "";
    const date = when.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
    const time = when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    return (format || "{date_short_pretty} at {time}")
      .replace(/\{date_(short_pretty|long_pretty|pretty|short|long|num)\}|\{date\}/g, date)
      .replace(/\{time(_secs)?\}/g, time);
  }

  // ---------------------------------------------------------------- mrkdwn

  const INLINE = /<([^<>\n]+)>|`([^`\n]+)`|\*([^*\n]+)\*|(?:^|(?<=[\s(]))_([^_\n]+)_(?=$|[\s.,;:!?)])|~([^~\n]+)~|:([a-z0-9_+\-]+):/g;

  function inline(text, ctx) {
    const out = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) out.append(decode(text.slice(last, match.index)));
      last = match.index + match[0].length;
      const [whole, angle, code, bold, italic, strike, emoji] = match;
      if (angle !== undefined) out.append(special(angle, ctx));
      else if (code !== undefined) out.append(el("code", { text: decode(code) }));
      else if (bold !== undefined) out.append(el("strong", {}, inline(bold, ctx)));
      else if (italic !== undefined) out.append(el("em", {}, inline(italic, ctx)));
      else if (strike !== undefined) out.append(el("s", {}, inline(strike, ctx)));
      else if (emoji !== undefined) out.append(EMOJI[emoji] ? el("span", { class: "emoji", role: "img", "aria-label": emoji.replace(/_/g, " "), text: EMOJI[emoji] }) : whole);
    }
    if (last < text.length) out.append(decode(text.slice(last)));
    return out;
  }

  function special(inner, ctx) {
    const [target, label] = splitOnce(inner, "|");
    if (target.startsWith("@")) return mention(target.slice(1), ctx);
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return el("a", { class: "mention", href: `#${id}`, text: `#${ctx.channelName(id) || decode(label || id)}` });
    }
    if (target.startsWith("!date^")) {
      const [, ts, format] = target.split("^");
      return el("time", { text: formatDate(ts, format, decode(label || "")) });
    }
    if (target.startsWith("!")) return el("strong", { text: `@${target.slice(1).split("^")[0]}` });
    if (/^(https?:|mailto:)/.test(target)) {
      return el("a", { href: decode(target), target: "_blank", rel: "noopener noreferrer", text: decode(label || target) });
    }
    return document.createTextNode(decode(`<${inner}>`));
  }

  function splitOnce(text, sep) {
    const at = text.indexOf(sep);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  function mention(id, ctx) {
    return el("span", { class: "mention", text: `@${ctx.personName(id) || id}` });
  }

  function mrkdwn(text, ctx) {
    const box = el("div", { class: "mrkdwn" });
    const parts = String(text).split(/```/);
    parts.forEach((part, i) => {
      if (i % 2 === 1) { box.append(el("pre", { text: decode(part) })); return; }
      let list = null, quote = null;
      for (const line of part.split("\n")) {
        const quoted = /^(&gt;|>) ?/.exec(line);
        const item = /^\s*(•|-|◦|\d+\.)\s+/.exec(line);
        if (quoted) {
          list = null;
          if (!quote) { quote = el("blockquote"); box.append(quote); }
          quote.append(el("div", {}, inline(line.slice(quoted[0].length), ctx)));
        } else if (item) {
          quote = null;
          if (!list) { list = el(/\d/.test(item[1]) ? "ol" : "ul"); box.append(list); }
          list.append(el("li", {}, inline(line.slice(item[0].length), ctx)));
        } else {
          list = quote = null;
          box.append(el("div", { class: "line" }, line ? inline(line, ctx) : el("br")));
        }
      }
    });
    return box;
  }

  function textObject(obj, ctx) {
    if (!obj) return document.createTextNode("");
    if (obj.type === "mrkdwn") return mrkdwn(obj.text || "", ctx);
    return el("span", { class: "plain" }, emojify(obj.text || ""));
  }

  function emojify(text) {
    // plain_text with emoji: true shows :shortcodes: as emoji; the rest stays literal.
    const out = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(/:([a-z0-9_+\-]+):/g)) {
      if (!EMOJI[m[1]]) continue;
      out.append(text.slice(last, m.index), EMOJI[m[1]]);
      last = m.index + m[0].length;
    }
    out.append(text.slice(last));
    return out;
  }

  function plain(obj) {
    return obj ? String(obj.text || "") : "";
  }

  // ---------------------------------------------------------------- rich text

  function richText(block, ctx) {
    const box = el("div", { class: "bk-rich" });
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") box.append(el("div", { class: "rt-section" }, richElements(part.elements, ctx)));
      else if (part.type === "rich_text_quote") box.append(el("blockquote", {}, richElements(part.elements, ctx)));
      else if (part.type === "rich_text_preformatted") box.append(el("pre", {}, richElements(part.elements, ctx)));
      else if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul");
        for (const item of part.elements || []) list.append(el("li", {}, richElements(item.elements, ctx)));
        box.append(list);
      } else box.append(placeholder(`rich text ${part.type}`));
    }
    return box;
  }

  function richElements(elements, ctx) {
    const out = document.createDocumentFragment();
    for (const part of elements || []) {
      let node;
      if (part.type === "text") {
        const lines = String(part.text).split("\n");
        node = document.createDocumentFragment();
        lines.forEach((line, i) => { if (i) node.append(el("br")); node.append(line); });
      } else if (part.type === "user") node = mention(part.user_id, ctx);
      else if (part.type === "channel") node = el("span", { class: "mention", text: `#${ctx.channelName(part.channel_id) || part.channel_id}` });
      else if (part.type === "link") node = el("a", { href: part.url, target: "_blank", rel: "noopener noreferrer", text: part.text || part.url });
      else if (part.type === "emoji") node = document.createTextNode(EMOJI[part.name] || `:${part.name}:`);
      else if (part.type === "date") node = el("time", { text: formatDate(part.timestamp, part.format, part.fallback) });
      else if (part.type === "broadcast") node = el("strong", { text: `@${part.range}` });
      else node = placeholder(`rich text element ${part.type}`);
      const style = part.style || {};
      if (style.code) node = el("code", {}, node);
      if (style.bold) node = el("strong", {}, node);
      if (style.italic) node = el("em", {}, node);
      if (style.strike) node = el("s", {}, node);
      out.append(node);
    }
    return out;
  }

  // ---------------------------------------------------------------- elements

  function button(element, ctx, block) {
    const style = element.style ? ` bk-button-${element.style}` : "";
    const node = el("button", {
      type: "button",
      class: `bk-button${style}`,
      "data-action-id": element.action_id,
      onclick: () => ctx.confirm(element.confirm).then((yes) => {
        if (!yes) return;
        if (element.url) window.open(element.url, "_blank", "noopener");
        if (element.action_id) {
          ctx.act({ action_id: element.action_id, block_id: block.block_id, type: "button", value: element.value, label: plain(element.text), style: element.style });
        }
      }),
    }, emojify(plain(element.text)));
    if (element.accessibility_label) node.setAttribute("aria-label", element.accessibility_label);
    return node;
  }

  function optionText(option) {
    return plain(option.text);
  }

  function allOptions(element) {
    const found = [...(element.options || [])];
    for (const group of element.option_groups || []) found.push(...(group.options || []));
    return found;
  }

  // An element that acts at once (actions block, accessory) or holds a value (input block).
  function element(element, ctx, block, inputId, describedBy) {
    const kind = element.type;
    const key = { block_id: block.block_id, action_id: element.action_id };
    const dispatch = (value) => { if (!ctx.inInput) ctx.act({ ...key, type: kind, ...value }); };
    const common = { id: inputId, "aria-describedby": describedBy, "data-block-id": block.block_id, "data-action-id": element.action_id, "data-type": kind };

    if (kind === "button") return button(element, ctx, block);
    if (kind === "plain_text_input" || kind === "email_text_input" || kind === "url_text_input" || kind === "number_input") {
      const type = { email_text_input: "email", url_text_input: "url", number_input: "number" }[kind] || "text";
      const input = element.multiline ? el("textarea", { ...common, rows: 4 }) : el("input", { ...common, type });
      if (element.initial_value) input.value = element.initial_value;
      if (element.max_length) input.maxLength = element.max_length;
      if (element.placeholder) input.placeholder = plain(element.placeholder);
      return input;
    }
    if (kind === "static_select" || kind === "multi_static_select") {
      const select = el("select", { ...common, multiple: kind === "multi_static_select" });
      if (kind === "static_select") select.append(el("option", { value: "", text: plain(element.placeholder) || "Choose an option" }));
      const addOptions = (parent, options) => {
        for (const o of options || []) {
          const option = el("option", { value: o.value, text: optionText(o) });
          const initial = element.initial_option ? [element.initial_option] : element.initial_options || [];
          if (initial.some((i) => i.value === o.value)) option.selected = true;
          parent.append(option);
        }
      };
      addOptions(select, element.options);
      for (const group of element.option_groups || []) {
        const g = el("optgroup", { label: plain(group.label) });
        addOptions(g, group.options);
        select.append(g);
      }
      select.addEventListener("change", () => dispatch(selectValue(select, element)));
      return select;
    }
    if (kind === "external_select" || kind === "multi_external_select") return externalSelect(element, ctx, block, common, dispatch);
    if (kind === "users_select" || kind === "multi_users_select" || kind === "conversations_select" ||
        kind === "multi_conversations_select" || kind === "channels_select" || kind === "multi_channels_select") {
      const multi = kind.startsWith("multi_");
      const people = kind.includes("users");
      const select = el("select", { ...common, multiple: multi, size: multi ? Math.min(5, people ? ctx.people.length : ctx.channels.length) : undefined });
      if (!multi) select.append(el("option", { value: "", text: plain(element.placeholder) || "Choose" }));
      const initial = [element.initial_user, element.initial_conversation, element.initial_channel,
        ...(element.initial_users || []), ...(element.initial_conversations || []), ...(element.initial_channels || [])].filter(Boolean);
      for (const item of people ? ctx.people : ctx.channels) {
        const option = el("option", { value: item.id, text: people ? item.name : `#${item.name}` });
        if (initial.includes(item.id)) option.selected = true;
        select.append(option);
      }
      return select;
    }
    if (kind === "checkboxes" || kind === "radio_buttons") {
      const group = el("div", { class: "bk-choices", role: kind === "radio_buttons" ? "radiogroup" : "group", id: inputId, "aria-describedby": describedBy, "data-block-id": block.block_id, "data-action-id": element.action_id, "data-type": kind });
      const initial = element.initial_option ? [element.initial_option] : element.initial_options || [];
      const name = `${block.block_id}.${element.action_id}.${Math.random().toString(36).slice(2, 8)}`;
      (element.options || []).forEach((o, i) => {
        const id = `${name}.${i}`;
        const box = el("input", { type: kind === "checkboxes" ? "checkbox" : "radio", name, id, value: o.value });
        if (initial.some((x) => x.value === o.value)) box.checked = true;
        box.addEventListener("change", () => dispatch(choiceValue(group, element)));
        const label = el("label", { for: id }, el("span", { class: "choice-text" }, textObject(o.text, ctx)));
        if (o.description) label.append(el("span", { class: "choice-help" }, textObject(o.description, ctx)));
        group.append(el("div", { class: "bk-choice" }, box, label));
      });
      return group;
    }
    if (kind === "datepicker") {
      const input = el("input", { ...common, type: "date" });
      if (element.initial_date) input.value = element.initial_date;
      input.addEventListener("change", () => dispatch({ selected_date: input.value }));
      return input;
    }
    if (kind === "timepicker") {
      const input = el("input", { ...common, type: "time" });
      if (element.initial_time) input.value = element.initial_time;
      return input;
    }
    if (kind === "datetimepicker") {
      const input = el("input", { ...common, type: "datetime-local" });
      if (element.initial_date_time) {
        const d = new Date(element.initial_date_time * 1000);
        input.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
      return input;
    }
    if (kind === "overflow") {
      const select = el("select", { ...common, "aria-label": "More actions" }, el("option", { value: "", text: "…" }));
      for (const o of element.options || []) select.append(el("option", { value: o.value, text: optionText(o) }));
      select.addEventListener("change", () => dispatch({ selected_option: element.options.find((o) => o.value === select.value) }));
      return select;
    }
    if (kind === "image") return el("img", { src: element.image_url, alt: element.alt_text || "" });
    return placeholder(`element ${kind}`);
  }

  function selectValue(select, element) {
    const options = allOptions(element).concat(select._options || []);
    const chosen = [...select.selectedOptions].map((o) => options.find((x) => x.value === o.value)).filter(Boolean);
    return select.multiple ? { selected_options: chosen } : { selected_option: chosen[0] || null };
  }

  function choiceValue(group, element) {
    const chosen = [...group.querySelectorAll("input:checked")].map((i) => element.options.find((o) => o.value === i.value));
    return element.type === "checkboxes" ? { selected_options: chosen } : { selected_option: chosen[0] || null };
  }

  // A select whose options the app sends (block_suggestion), fetched as the person types.
  function externalSelect(element, ctx, block, common, dispatch) {
    const wrap = el("div", { class: "bk-external" });
    const search = el("input", { type: "search", class: "bk-external-search", "aria-label": `Search: ${plain(element.placeholder) || "type to search"}`, placeholder: plain(element.placeholder) || "Type to search" });
    const select = el("select", { ...common, multiple: element.type === "multi_external_select" });
    select._options = [];
    const initial = element.initial_option ? [element.initial_option] : element.initial_options || [];
    const fill = (options) => {
      const keep = [...select.selectedOptions].map((o) => o.value);
      select._options = [...initial, ...options];
      select.replaceChildren();
      if (!select.multiple) select.append(el("option", { value: "", text: "Choose an option" }));
      const seen = new Set();
      for (const o of select._options) {
        if (seen.has(o.value)) continue;
        seen.add(o.value);
        const option = el("option", { value: o.value, text: optionText(o) });
        if (keep.includes(o.value) || (!keep.length && initial.some((i) => i.value === o.value))) option.selected = true;
        select.append(option);
      }
    };
    fill([]);
    let timer = null;
    const load = () => ctx.suggest({ action_id: element.action_id, block_id: block.block_id, value: search.value }).then((groups) => {
      const options = [];
      for (const item of groups || []) options.push(...(item.options ? item.options : [item]));
      fill(options);
    });
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 150); });
    if ((element.min_query_length ?? 3) === 0) setTimeout(load, 0);
    select.addEventListener("change", () => dispatch(selectValue(select, element)));
    wrap.append(search, select);
    return wrap;
  }

  // ---------------------------------------------------------------- blocks

  function block(b, ctx, index) {
    switch (b.type) {
      case "header": return el("h3", { class: "bk-header" }, emojify(plain(b.text)));
      case "divider": return el("hr", { class: "bk-divider" });
      case "section": {
        const box = el("div", { class: "bk-section" });
        const body = el("div", { class: "bk-section-body" });
        if (b.text) body.append(textObject(b.text, ctx));
        if (b.fields) {
          const fields = el("div", { class: "bk-fields" });
          for (const f of b.fields) fields.append(el("div", { class: "bk-field" }, textObject(f, ctx)));
          body.append(fields);
        }
        box.append(body);
        if (b.accessory) box.append(el("div", { class: "bk-accessory" }, element(b.accessory, { ...ctx, inInput: false }, b)));
        return box;
      }
      case "context": {
        const box = el("div", { class: "bk-context" });
        for (const item of b.elements || []) {
          box.append(item.type === "image" ? el("img", { src: item.image_url, alt: item.alt_text || "", class: "bk-context-image" }) : textObject(item, ctx));
        }
        return box;
      }
      case "actions": {
        const box = el("div", { class: "bk-actions", role: "group", "aria-label": "Actions" });
        for (const item of b.elements || []) box.append(element(item, { ...ctx, inInput: false }, b));
        return box;
      }
      case "rich_text": return richText(b, ctx);
      case "image": return el("img", { class: "bk-image", src: b.image_url, alt: b.alt_text || "" });
      case "input": return input(b, ctx, index);
      default: return placeholder(`block ${b.type}`);
    }
  }

  function input(b, ctx, index) {
    const id = `${ctx.idPrefix || "in"}-${index}`;
    const hintId = `${id}-hint`, errorId = `${id}-error`;
    const error = (ctx.errors || {})[b.block_id];
    const described = [b.hint ? hintId : null, error ? errorId : null].filter(Boolean).join(" ") || undefined;
    const grouped = ["checkboxes", "radio_buttons"].includes(b.element.type);
    const labelText = `${plain(b.label)}${b.optional ? " (optional)" : ""}`;
    const box = el(grouped ? "fieldset" : "div", { class: `bk-input${error ? " has-error" : ""}`, "data-block-id": b.block_id });
    box.append(grouped ? el("legend", { class: "bk-label", text: labelText }) : el("label", { class: "bk-label", for: id, text: labelText }));
    const field = element(b.element, { ...ctx, inInput: !b.dispatch_action }, b, id, described);
    if (!b.optional && !grouped) (field.matches("input,select,textarea") ? field : field.querySelector("select"))?.setAttribute("aria-required", "true");
    if (error) (field.matches("input,select,textarea,[role]") ? field : field.querySelector("select"))?.setAttribute("aria-invalid", "true");
    box.append(field);
    if (b.hint) box.append(el("div", { class: "bk-hint", id: hintId, text: plain(b.hint) }));
    if (error) box.append(el("div", { class: "bk-error", id: errorId, role: "alert", text: error }));
    return box;
  }

  function blocks(list, ctx) {
    const out = el("div", { class: "bk-blocks" });
    (list || []).forEach((b, i) => out.append(block(b, ctx, i)));
    return out;
  }

  // state.values of a modal, as Slack sends them on submission.
  function values(root) {
    const out = {};
    for (const node of root.querySelectorAll("[data-type]")) {
      const blockId = node.dataset.blockId, actionId = node.dataset.actionId, type = node.dataset.type;
      if (!node.closest(".bk-input")) continue;
      let value;
      if (["plain_text_input", "email_text_input", "url_text_input", "number_input"].includes(type)) value = { value: node.value || null };
      else if (type === "datepicker") value = { selected_date: node.value || null };
      else if (type === "timepicker") value = { selected_time: node.value || null };
      else if (type === "datetimepicker") value = { selected_date_time: node.value ? Math.floor(new Date(node.value).getTime() / 1000) : null };
      else if (type === "checkboxes" || type === "radio_buttons") {
        const chosen = [...node.querySelectorAll("input:checked")].map((i) => ({ value: i.value, text: { type: "plain_text", text: i.labels[0]?.querySelector(".choice-text")?.textContent || i.value } }));
        value = type === "checkboxes" ? { selected_options: chosen } : { selected_option: chosen[0] || null };
      } else if (type.endsWith("users_select") || type.endsWith("conversations_select") || type.endsWith("channels_select")) {
        const ids = [...node.selectedOptions].map((o) => o.value).filter(Boolean);
        const key = type.includes("users") ? "user" : type.includes("channels") ? "channel" : "conversation";
        value = type.startsWith("multi_") ? { [`selected_${key}s`]: ids } : { [`selected_${key}`]: ids[0] || null };
      } else if (node.tagName === "SELECT") {
        const known = node._options || [];
        const chosen = [...node.selectedOptions].filter((o) => o.value).map((o) => known.find((k) => k.value === o.value) || { value: o.value, text: { type: "plain_text", text: o.textContent } });
        value = node.multiple ? { selected_options: chosen } : { selected_option: chosen[0] || null };
      } else continue;
      out[blockId] = { ...(out[blockId] || {}), [actionId]: { type, ...value } };
    }
    return out;
  }

  return { blocks, mrkdwn, textObject, plain, el, values, emojify, formatDate };
})();
