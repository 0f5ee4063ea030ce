/*! applybot widget: answers questions about calls for applications, with citations.
 *
 * Embed with one tag:
 *   <script src="https://HOST/widget.js" data-api="https://HOST" data-title="申报咨询" async></script>
 * data-api defaults to the origin the script was loaded from.
 *
 * No framework, no build step. Everything is drawn in a Shadow DOM, and every piece of text that
 * comes from the server or the user is set with textContent, never as HTML.
 */
(function () {
  "use strict";

  if (window.__applybotWidgetLoaded) return;
  window.__applybotWidgetLoaded = true;

  var script =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll("script[src]");
      for (var i = all.length - 1; i >= 0; i--) {
        if (/\/widget\.js(\?|#|$)/.test(all[i].src)) return all[i];
      }
      return null;
    })();

  var MAX_CHARS = 500;
  var MAX_STORED = 60;
  var EN = /^en\b/i.test((document.documentElement.getAttribute("lang") || "").trim());

  var TEXT = EN
    ? {
        title: "Application help",
        open: "Open the application help chat",
        close: "Close",
        newChat: "New conversation",
        log: "Conversation",
        question: "Your question",
        placeholder: "Ask about the notice, press Enter to send",
        send: "Send",
        typing: "Answering…",
        sources: "Sources",
        contacts: "Contacts",
        calendar: "Add to calendar",
        contact: "Contact staff",
        handoffDone: "Your request has been passed to the staff. You can also contact:",
        handoffNone: "Your request has been passed to the staff.",
        staffWaiting: "A staff member will answer here. Messages you send now go to the staff.",
        staffLabel: "Staff",
        staffBanner: "Talking with staff",
        staffPlaceholder: "Write to the staff, press Enter to send",
        endChat: "End chat with staff",
        staffEnded: "The chat with staff has ended. You can ask the assistant again.",
        helpful: "Helpful",
        unhelpful: "Not helpful",
        thanks: "Thank you for your feedback.",
        error: "Something went wrong. Please try again later.",
        network: "The service cannot be reached. Please try again later.",
        tooMany: "Too many questions. Please try again in {s} seconds.",
        tooLong: "The question is too long (at most {n} characters).",
        welcome:
          "Hello! Ask me about the notice: deadlines, who may apply, materials, how to submit, contacts.",
        phone: "Phone",
        email: "E-mail",
        section: "Section",
        launcher: "Ask",
      }
    : {
        title: "申报咨询",
        open: "打开申报咨询",
        close: "关闭",
        newChat: "新对话",
        log: "对话记录",
        question: "您的问题",
        placeholder: "请输入问题，按 Enter 发送",
        send: "发送",
        typing: "正在回答…",
        sources: "依据",
        contacts: "联系人",
        calendar: "加入日历",
        contact: "联系工作人员",
        handoffDone: "已通知工作人员。您也可以直接联系：",
        handoffNone: "已通知工作人员。",
        staffWaiting: "工作人员会在这里回复您；现在发送的消息将转给工作人员。",
        staffLabel: "工作人员",
        staffBanner: "正在与工作人员对话",
        staffPlaceholder: "输入给工作人员的消息，按 Enter 发送",
        endChat: "结束人工对话",
        staffEnded: "人工对话已结束，您可以继续向机器人提问。",
        helpful: "有帮助",
        unhelpful: "没有帮助",
        thanks: "谢谢您的反馈。",
        error: "出错了，请稍后再试。",
        network: "暂时无法连接服务，请稍后再试。",
        tooMany: "提问太频繁，请 {s} 秒后再试。",
        tooLong: "问题太长了（最多 {n} 个字）。",
        welcome: "您好！我可以回答申报通知中的问题：截止时间、申报对象、申报材料、报送方式、联系人等。",
        phone: "电话",
        email: "邮箱",
        section: "章节",
        launcher: "咨询",
      };

  function apiBase() {
    var fallback = script && script.src ? new URL(script.src, location.href).origin : location.origin;
    var given = script && script.getAttribute("data-api");
    if (!given) return fallback;
    try {
      var url = new URL(given, location.href);
      if (url.protocol !== "http:" && url.protocol !== "https:") return fallback;
      return (url.origin + url.pathname).replace(/\/+$/, "");
    } catch (e) {
      return fallback;
    }
  }

  var API = apiBase();
  var TITLE = (script && script.getAttribute("data-title")) || TEXT.title;
  var STORE_KEY = "applybot:v1:" + API;

  // -- state, kept in localStorage so the conversation survives a reload --------------------------

  function loadState() {
    try {
      var raw = window.localStorage.getItem(STORE_KEY);
      var data = raw ? JSON.parse(raw) : null;
      if (data && Array.isArray(data.messages)) return data;
    } catch (e) {
      /* private mode or a broken entry: start afresh */
    }
    return { session_id: null, messages: [], open: false, handoff: null };
  }

  var state = loadState();

  function saveState() {
    state.messages = state.messages.slice(-MAX_STORED);
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) {
      /* storage full or refused: the conversation just won't survive a reload */
    }
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // -- DOM helpers ----------------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, key) && attrs[key] != null) {
          node.setAttribute(key, String(attrs[key]));
        }
      }
    }
    if (text != null) node.textContent = String(text);
    return node;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      return values[name] != null ? String(values[name]) : "";
    });
  }

  // Icons are drawn, not typed: no emoji font is needed.
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    up:
      "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59" +
      "C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    down:
      "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32" +
      "c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
  };

  function icon(d) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ab-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  var uid = 0;
  function nextId(prefix) {
    uid += 1;
    return "ab-" + prefix + "-" + uid;
  }

  var CSS = [
    ":host{all:initial !important;display:block !important;position:static !important;}",
    ".ab-root,.ab-root *{box-sizing:border-box;}",
    ".ab-root{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;",
    "font-size:14px;line-height:1.55;color:#1f2328;font-weight:400;font-style:normal;letter-spacing:normal;",
    "text-align:left;text-transform:none;direction:ltr;}",
    ".ab-root [hidden]{display:none !important;}",
    "button,textarea{font:inherit;color:inherit;margin:0;}",
    "button{cursor:pointer;}",
    ":focus-visible{outline:3px solid #f0a000;outline-offset:2px;}",
    ".ab-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:6px;",
    "height:52px;padding:0 20px 0 16px;border:0;border-radius:26px;background:#b3261e;color:#fff;",
    "font-size:16px;font-weight:600;box-shadow:0 4px 16px rgba(0,0,0,.25);}",
    ".ab-launcher:hover{background:#8c1d18;}",
    ".ab-icon{display:block;width:16px;height:16px;fill:currentColor;}",
    ".ab-launcher .ab-icon{width:22px;height:22px;}",
    ".ab-panel{position:fixed;right:20px;bottom:84px;z-index:2147483001;display:flex;flex-direction:column;",
    "width:380px;height:min(600px,calc(100vh - 104px));background:#fff;border-radius:12px;overflow:hidden;",
    "box-shadow:0 8px 32px rgba(0,0,0,.28);border:1px solid #d0d7de;}",
    ".ab-header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#b3261e;color:#fff;}",
    ".ab-title{flex:1;margin:0;font-size:16px;font-weight:600;line-height:1.3;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;}",
    ".ab-hbtn{border:1px solid rgba(255,255,255,.6);background:transparent;color:#fff;border-radius:6px;padding:3px 8px;font-size:13px;}",
    ".ab-hbtn:hover{background:rgba(255,255,255,.15);}",
    ".ab-close{font-size:18px;line-height:1;padding:3px 9px;}",
    ".ab-log{flex:1;overflow-y:auto;padding:12px;background:#f6f8fa;display:flex;flex-direction:column;gap:10px;}",
    ".ab-msg{max-width:92%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;}",
    ".ab-user{align-self:flex-end;background:#b3261e;color:#fff;border-bottom-right-radius:3px;}",
    ".ab-bot{align-self:flex-start;background:#fff;border:1px solid #d0d7de;border-bottom-left-radius:3px;}",
    ".ab-info{align-self:stretch;max-width:100%;background:#fff8e1;border:1px solid #f0d78c;font-size:13px;}",
    ".ab-error{align-self:stretch;max-width:100%;background:#ffebe9;border:1px solid #ffcecb;color:#82071e;font-size:13px;}",
    ".ab-label{margin:8px 0 4px;font-size:12px;font-weight:600;color:#57606a;white-space:normal;}",
    ".ab-cites,.ab-contacts{list-style:none;margin:0;padding:0;white-space:normal;}",
    ".ab-cites li{margin:0 0 4px;}",
    ".ab-cite{display:block;width:100%;text-align:left;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;",
    "padding:4px 8px;font-size:12px;color:#0b4f9c;}",
    ".ab-cite[aria-expanded=true]{background:#ddf4ff;border-color:#54aeff;}",
    ".ab-num{font-weight:700;margin-right:4px;}",
    ".ab-quote{margin:4px 0 6px;padding:6px 8px;border-left:3px solid #54aeff;background:#f6fbff;font-size:12px;}",
    ".ab-src{font-weight:600;color:#24292f;margin:0;}",
    ".ab-sec{color:#57606a;margin:0 0 4px;}",
    ".ab-quote blockquote{margin:4px 0 0;white-space:pre-wrap;tab-size:2;color:#24292f;}",
    ".ab-contacts li{margin:2px 0;font-size:13px;}",
    ".ab-contacts a{color:#0b4f9c;}",
    ".ab-rate{display:flex;align-items:center;gap:6px;margin-top:6px;white-space:normal;}",
    ".ab-rbtn{display:flex;align-items:center;border:1px solid #d0d7de;background:#fff;color:#57606a;border-radius:6px;padding:4px 9px;}",
    ".ab-rbtn:hover:not(:disabled){color:#0b4f9c;border-color:#54aeff;}",
    ".ab-rbtn[aria-pressed=true]{background:#ddf4ff;border-color:#54aeff;color:#0b4f9c;}",
    ".ab-rbtn:disabled{cursor:default;opacity:.75;}",
    ".ab-rbtn[aria-pressed=true]:disabled{opacity:1;}",
    ".ab-thanks{font-size:12px;color:#57606a;}",
    ".ab-typing{display:flex;align-items:center;gap:6px;padding:4px 14px;font-size:12px;color:#57606a;background:#f6f8fa;}",
    ".ab-dots span{display:inline-block;width:6px;height:6px;margin:0 1px;border-radius:50%;background:#8c959f;",
    "animation:ab-blink 1.2s infinite ease-in-out;}",
    ".ab-dots span:nth-child(2){animation-delay:.2s;}.ab-dots span:nth-child(3){animation-delay:.4s;}",
    "@keyframes ab-blink{0%,80%,100%{opacity:.25;}40%{opacity:1;}}",
    "@media (prefers-reduced-motion:reduce){.ab-dots span{animation:none;}}",
    ".ab-tools{display:flex;justify-content:flex-end;padding:6px 10px 0;background:#fff;border-top:1px solid #d0d7de;}",
    ".ab-choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;}",
    ".ab-chip{border:1px solid #1a73e8;color:#1a73e8;background:#fff;border-radius:14px;padding:3px 10px;font-size:13px;text-align:left;}",
    ".ab-chip:hover,.ab-chip:focus{background:#e8f0fe;}",
    ".ab-deadlines{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;}",
    ".ab-ics{color:#1a73e8;font-size:13px;text-decoration:none;border-bottom:1px dashed #1a73e8;}",
    ".ab-handoff{border:1px solid #b3261e;color:#b3261e;background:#fff;border-radius:6px;padding:3px 10px;font-size:13px;}",
    ".ab-handoff:hover{background:#fff1f0;}",
    ".ab-staffbar{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:6px 10px;font-size:13px;",
    "background:#fff8c5;color:#4d2d00;border-top:1px solid #d4a72c;}",
    ".ab-end{border:1px solid #4d2d00;color:#4d2d00;background:#fff;border-radius:6px;padding:2px 8px;font-size:12px;}",
    ".ab-staff{align-self:flex-start;background:#fff8c5;border:1px solid #d4a72c;}",
    ".ab-who{font-size:12px;font-weight:600;color:#4d2d00;margin-bottom:2px;}",
    ".ab-form{display:flex;gap:8px;padding:8px 10px 10px;background:#fff;}",
    ".ab-input{flex:1;min-height:40px;max-height:120px;resize:none;padding:8px 10px;border:1px solid #8c959f;border-radius:8px;",
    "background:#fff;font-size:14px;line-height:1.4;}",
    ".ab-send{border:0;border-radius:8px;padding:0 16px;background:#b3261e;color:#fff;font-weight:600;}",
    ".ab-send:disabled{opacity:.55;cursor:default;}",
    ".ab-sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0;}",
    "@media (max-width:480px){",
    ".ab-panel{inset:0;right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0;border:0;}",
    ".ab-launcher{right:12px;bottom:12px;}",
    ".ab-msg{max-width:100%;}",
    ".ab-input{font-size:16px;}",
    "}",
  ].join("");

  // -- the widget ---------------------------------------------------------------------------------------

  function build() {
    var host = el("div", { id: "applybot-widget", "data-applybot": "" });
    var shadow = host.attachShadow({ mode: "open" });
    var style = el("style");
    style.textContent = CSS;
    shadow.appendChild(style);

    var root = el("div", { class: "ab-root", lang: EN ? "en" : "zh-CN" });
    shadow.appendChild(root);

    var launcher = el("button", {
      type: "button",
      class: "ab-launcher",
      "aria-label": TEXT.open,
      "aria-expanded": "false",
      "aria-controls": "ab-panel",
      "aria-haspopup": "dialog",
    });
    launcher.appendChild(icon(ICONS.chat));
    launcher.appendChild(el("span", { "aria-hidden": "true" }, TEXT.launcher));

    var panel = el("section", {
      id: "ab-panel",
      class: "ab-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "ab-title",
      hidden: "",
    });
    var header = el("div", { class: "ab-header" });
    header.appendChild(el("h2", { id: "ab-title", class: "ab-title" }, TITLE));
    var newButton = el("button", { type: "button", class: "ab-hbtn ab-new" }, TEXT.newChat);
    var closeButton = el("button", { type: "button", class: "ab-hbtn ab-close", "aria-label": TEXT.close }, "×");
    header.appendChild(newButton);
    header.appendChild(closeButton);

    var log = el("div", {
      class: "ab-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": TEXT.log,
      tabindex: "0",
    });
    var typing = el("div", { class: "ab-typing", role: "status", hidden: "" });
    var dots = el("span", { class: "ab-dots", "aria-hidden": "true" });
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    typing.appendChild(dots);
    typing.appendChild(el("span", null, TEXT.typing));

    var tools = el("div", { class: "ab-tools" });
    var handoffButton = el("button", { type: "button", class: "ab-handoff" }, TEXT.contact);
    tools.appendChild(handoffButton);
    var staffBar = el("div", { class: "ab-staffbar", role: "status", hidden: "" });
    staffBar.appendChild(el("span", null, TEXT.staffBanner));
    var endButton = el("button", { type: "button", class: "ab-end" }, TEXT.endChat);
    staffBar.appendChild(endButton);

    var form = el("form", { class: "ab-form" });
    form.appendChild(el("label", { class: "ab-sr", for: "ab-input" }, TEXT.question));
    var input = el("textarea", {
      id: "ab-input",
      class: "ab-input",
      rows: "1",
      maxlength: String(MAX_CHARS),
      placeholder: TEXT.placeholder,
      autocomplete: "off",
      enterkeyhint: "send",
    });
    var sendButton = el("button", { type: "submit", class: "ab-send" }, TEXT.send);
    form.appendChild(input);
    form.appendChild(sendButton);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(staffBar);
    panel.appendChild(tools);
    panel.appendChild(form);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(host);

    var busy = false;
    var controller = null;

    // -- rendering (textContent only) -----------------------------------------------------------------

    function renderCitations(container, citations) {
      if (!citations || !citations.length) return;
      container.appendChild(el("div", { class: "ab-label" }, TEXT.sources));
      var list = el("ol", { class: "ab-cites" });
      citations.forEach(function (c, i) {
        var item = el("li");
        var quoteId = nextId("quote");
        var button = el("button", {
          type: "button",
          class: "ab-cite",
          "aria-expanded": "false",
          "aria-controls": quoteId,
        });
        var title = String(c.title || "");
        var section = String(c.section || "");
        // A section path often starts with the document's title: say the title once.
        if (title && section.indexOf(title + " › ") === 0) section = section.slice(title.length + 3);
        else if (section === title) section = "";
        button.appendChild(el("span", { class: "ab-num" }, "[" + (i + 1) + "]"));
        button.appendChild(document.createTextNode(title + (section ? " › " + section : "")));
        var quote = el("div", { id: quoteId, class: "ab-quote", hidden: "" });
        quote.appendChild(el("p", { class: "ab-src" }, title));
        if (section) quote.appendChild(el("p", { class: "ab-sec" }, TEXT.section + "：" + section));
        quote.appendChild(el("blockquote", null, String(c.quote || "")));
        button.addEventListener("click", function () {
          var open = button.getAttribute("aria-expanded") !== "true";
          button.setAttribute("aria-expanded", open ? "true" : "false");
          quote.hidden = !open;
          if (open && quote.scrollIntoView) quote.scrollIntoView({ block: "nearest" });
        });
        item.appendChild(button);
        item.appendChild(quote);
        list.appendChild(item);
      });
      container.appendChild(list);
    }

    // Notices to choose from when a question fits several: a chip sends its title as the next turn.
    function renderChoices(container, options) {
      if (!options || !options.length) return;
      var row = el("div", { class: "ab-choices", role: "group" });
      options.forEach(function (option) {
        var chip = el("button", { type: "button", class: "ab-chip" }, option.title);
        chip.addEventListener("click", function () {
          ask(option.title);
        });
        row.appendChild(chip);
      });
      container.appendChild(row);
    }

    // A deadline the answer gives: "加入日历" downloads its .ics file (any calendar app opens it).
    function renderDeadlines(container, deadlines) {
      if (!deadlines || !deadlines.length) return;
      var row = el("div", { class: "ab-deadlines" });
      deadlines.forEach(function (d) {
        var link = el(
          "a",
          { class: "ab-ics", href: API + "/api/deadlines/" + encodeURIComponent(d.key) + ".ics", download: "" },
          TEXT.calendar + (deadlines.length > 1 ? "：" + d.what : "")
        );
        row.appendChild(link);
      });
      container.appendChild(row);
    }

    function renderContacts(container, contacts, label) {
      if (!contacts || !contacts.length) return;
      if (label) container.appendChild(el("div", { class: "ab-label" }, label));
      var list = el("ul", { class: "ab-contacts" });
      contacts.forEach(function (c) {
        var item = el("li");
        var who = [c.department, c.name].filter(Boolean).join(" ");
        item.appendChild(document.createTextNode(who));
        if (c.phone) {
          item.appendChild(document.createTextNode(" · " + TEXT.phone + " "));
          var tel = String(c.phone).replace(/[^0-9+\-]/g, "");
          item.appendChild(el("a", { href: "tel:" + tel }, c.phone));
        }
        if (c.email) {
          item.appendChild(document.createTextNode(" · " + TEXT.email + " "));
          var email = String(c.email);
          if (/^[^\s@:\/?#]+@[^\s@:\/?#]+$/.test(email)) {
            item.appendChild(el("a", { href: "mailto:" + email }, email));
          } else {
            item.appendChild(document.createTextNode(email));
          }
        }
        list.appendChild(item);
      });
      container.appendChild(list);
    }

    function renderRating(container, message) {
      if (!message.message_id) return;
      var row = el("div", { class: "ab-rate" });
      var up = el("button", { type: "button", class: "ab-rbtn", "aria-label": TEXT.helpful, title: TEXT.helpful });
      var down = el("button", { type: "button", class: "ab-rbtn", "aria-label": TEXT.unhelpful, title: TEXT.unhelpful });
      up.appendChild(icon(ICONS.up));
      down.appendChild(icon(ICONS.down));
      var thanks = el("span", { class: "ab-thanks", role: "status" });
      function show() {
        up.setAttribute("aria-pressed", message.rating === "up" ? "true" : "false");
        down.setAttribute("aria-pressed", message.rating === "down" ? "true" : "false");
        up.disabled = down.disabled = !!message.rating;
        thanks.textContent = message.rating ? TEXT.thanks : "";
      }
      function rate(rating) {
        if (message.rating) return;
        up.disabled = down.disabled = true;
        postJSON("/api/feedback", {
          session_id: state.session_id,
          message_id: message.message_id,
          rating: rating,
        })
          .then(function () {
            message.rating = rating;
            saveState();
            show();
          })
          .catch(function (err) {
            show();
            showError(err);
          });
      }
      up.addEventListener("click", function () {
        rate("up");
      });
      down.addEventListener("click", function () {
        rate("down");
      });
      show();
      row.appendChild(up);
      row.appendChild(down);
      row.appendChild(thanks);
      container.appendChild(row);
    }

    function renderMessage(message) {
      var node;
      if (message.role === "user") {
        node = el("div", { class: "ab-msg ab-user" }, message.text);
      } else if (message.role === "staff") {
        node = el("div", { class: "ab-msg ab-staff" });
        node.appendChild(el("div", { class: "ab-who" }, TEXT.staffLabel));
        node.appendChild(el("div", { class: "ab-text" }, message.text));
      } else if (message.role === "bot") {
        node = el("div", { class: "ab-msg ab-bot", "data-message-id": message.message_id || "" });
        node.appendChild(el("div", { class: "ab-text" }, message.text));
        renderChoices(node, message.clarify);
        renderDeadlines(node, message.deadlines);
        renderCitations(node, message.citations);
        renderContacts(node, message.contacts, TEXT.contacts);
        renderRating(node, message);
      } else {
        node = el("div", { class: "ab-msg " + (message.role === "error" ? "ab-error" : "ab-info") }, message.text);
        renderContacts(node, message.contacts, null);
      }
      log.appendChild(node);
      return node;
    }

    function scrollDown() {
      log.scrollTop = log.scrollHeight;
    }

    function renderAll() {
      log.textContent = "";
      renderMessage({ role: "info", text: TEXT.welcome });
      state.messages.forEach(renderMessage);
      scrollDown();
    }

    function add(message, persist) {
      if (persist !== false) {
        state.messages.push(message);
        saveState();
      }
      var node = renderMessage(message);
      scrollDown();
      return node;
    }

    // -- talking to the API ------------------------------------------------------------------------

    function ApiError(status, message, retryAfter) {
      this.status = status;
      this.message = message;
      this.retryAfter = retryAfter;
    }

    function errorFrom(response) {
      var retry = response.headers.get("Retry-After");
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          return new ApiError(response.status, body && typeof body.error === "string" ? body.error : "", retry);
        });
    }

    function describe(err) {
      if (err && err.status === 429) return format(TEXT.tooMany, { s: err.retryAfter || 60 });
      if (err && err.status === 422 && /limit is \d+/.test(err.message || "")) {
        return format(TEXT.tooLong, { n: (err.message.match(/limit is (\d+)/) || [])[1] });
      }
      if (err && err.status && err.status < 500 && err.message) return err.message;
      if (err && err.status) return TEXT.error;
      return TEXT.network;
    }

    function showError(err) {
      add({ role: "error", text: describe(err) }, false);
    }

    function postJSON(path, body) {
      return fetch(API + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      }).then(function (response) {
        if (!response.ok) return errorFrom(response).then(Promise.reject.bind(Promise));
        return response.json();
      });
    }

    // Read Server-Sent Events from a fetch body: blocks separated by a blank line, "event:" and "data:".
    function readEvents(response, onEvent) {
      var decoder = new TextDecoder();
      var buffer = "";
      function flush(final) {
        buffer = buffer.replace(/\r\n?/g, "\n");
        var parts = buffer.split("\n\n");
        buffer = final ? "" : parts.pop();
        parts.forEach(function (block) {
          var name = "message";
          var data = [];
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) name = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (data.length) {
            var payload;
            try {
              payload = JSON.parse(data.join("\n"));
            } catch (e) {
              return;
            }
            onEvent(name, payload);
          }
        });
      }
      if (!response.body || !response.body.getReader) {
        return response.text().then(function (text) {
          buffer = text + "\n\n";
          flush(true);
        });
      }
      var reader = response.body.getReader();
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            buffer += decoder.decode();
            if (buffer.trim()) buffer += "\n\n";
            flush(true);
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true });
          flush(false);
          return pump();
        });
      }
      return pump();
    }

    function setBusy(value) {
      busy = value;
      typing.hidden = !value;
      sendButton.disabled = value;
      if (value) log.setAttribute("aria-busy", "true");
      else log.removeAttribute("aria-busy");
    }

    function ask(question) {
      if (busy) return;
      question = question.trim();
      if (!question) return;
      add({ role: "user", text: question });
      setBusy(true);
      var streaming = null; // the bubble that shows the deltas
      var streamed = "";
      var final = null;
      controller = window.AbortController ? new AbortController() : null;
      var mine = controller;
      fetch(API + "/api/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ question: question, session_id: state.session_id || undefined, channel: "web" }),
        credentials: "omit",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (!response.ok) return errorFrom(response).then(Promise.reject.bind(Promise));
          return readEvents(response, function (name, data) {
            if (name === "delta" && data && typeof data.text === "string") {
              if (!streaming) {
                streaming = el("div", { class: "ab-msg ab-bot ab-streaming", "aria-hidden": "true" });
                log.appendChild(streaming);
              }
              streamed += data.text;
              streaming.textContent = streamed;
              scrollDown();
            } else if (name === "answer" && data && typeof data.answer === "string") {
              final = data;
            } else if (name === "error") {
              throw new ApiError(500, data && data.error, null);
            }
          });
        })
        .then(function () {
          if (mine !== controller) return; // a new conversation was started meanwhile
          if (!final) throw new ApiError(500, "", null);
          if (streaming) streaming.remove();
          if (final.session_id) state.session_id = final.session_id;
          add({
            role: "bot",
            text: final.answer,
            citations: (final.citations || []).map(function (c) {
              return { title: c.title, section: c.section, quote: c.quote, kind: c.kind, doc_id: c.doc_id };
            }),
            contacts: final.escalated ? final.contacts || [] : [],
            clarify: (final.clarify || []).map(function (o) {
              return { doc_id: o.doc_id, title: o.title };
            }),
            deadlines: (final.deadlines || []).map(function (d) {
              return { key: d.key, what: d.what, date: d.date };
            }),
            message_id: final.message_id,
            escalated: !!final.escalated,
            rating: null,
          });
        })
        .catch(function (err) {
          if (mine !== controller || (err && err.name === "AbortError")) return;
          if (streaming) streaming.remove();
          showError(err);
        })
        .then(function () {
          if (mine === controller) {
            controller = null;
            setBusy(false);
          }
        });
    }

    function handoff() {
      if (!state.session_id) {
        state.session_id = newSessionId();
        saveState();
      }
      var lastQuestion = null;
      for (var i = state.messages.length - 1; i >= 0; i--) {
        if (state.messages[i].role === "user") {
          lastQuestion = state.messages[i].text.slice(0, 500);
          break;
        }
      }
      handoffButton.disabled = true;
      postJSON("/api/handoff", { session_id: state.session_id, note: lastQuestion, channel: "web" })
        .then(function (data) {
          var contacts = (data && data.contacts) || [];
          add({ role: "info", text: contacts.length ? TEXT.handoffDone : TEXT.handoffNone, contacts: contacts });
          if (data && data.thread_token && data.status !== "closed") {
            state.handoff = { id: data.handoff_id, token: data.thread_token, after: 0, status: data.status };
            add({ role: "info", text: TEXT.staffWaiting });
            onThreadMessages(data.messages || []);
            staffMode();
            listen();
          }
        })
        .catch(showError)
        .then(function () {
          handoffButton.disabled = false;
        });
    }

    // -- a live thread with staff: replies arrive by Server-Sent Events, or by polling without them --

    var source = null;
    var pollTimer = null;
    var failures = 0;

    function inThread() {
      return !!(state.handoff && state.handoff.status !== "closed");
    }

    function staffMode() {
      var on = inThread();
      staffBar.hidden = !on;
      handoffButton.hidden = on;
      input.placeholder = on ? TEXT.staffPlaceholder : TEXT.placeholder;
    }

    function threadUrl(path) {
      var h = state.handoff;
      return (
        API + "/api/handoff/" + encodeURIComponent(h.id) + path +
        "?token=" + encodeURIComponent(h.token) + "&after=" + encodeURIComponent(h.after || 0)
      );
    }

    function onThreadMessages(list) {
      list.forEach(function (m) {
        if (!state.handoff || !m || typeof m.id !== "number" || m.id <= (state.handoff.after || 0)) return;
        state.handoff.after = m.id;
        if (m.role === "staff") add({ role: "staff", text: String(m.text || "") });
        else if (m.role === "system") add({ role: "info", text: TEXT.staffEnded });
      });
      saveState();
    }

    function ended() {
      stopListening();
      if (state.handoff) state.handoff.status = "closed";
      saveState();
      staffMode();
    }

    function onThreadStatus(status) {
      if (!state.handoff) return;
      state.handoff.status = status;
      saveState();
      if (status === "closed") ended();
    }

    function stopListening() {
      if (source) source.close();
      source = null;
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = null;
    }

    function parse(text) {
      try {
        return JSON.parse(text);
      } catch (e) {
        return null;
      }
    }

    function poll() {
      stopListening();
      function once() {
        if (!inThread()) return stopListening();
        fetch(threadUrl(""), { credentials: "omit", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (response.status === 404) return ended();
            if (!response.ok) return null;
            return response.json().then(function (data) {
              onThreadMessages(data.messages || []);
              onThreadStatus(data.status);
            });
          })
          .catch(function () {
            /* offline for a moment: the next round tries again */
          });
      }
      once();
      pollTimer = setInterval(once, 3000);
    }

    function listen() {
      stopListening();
      if (!inThread()) return;
      if (!window.EventSource) return poll();
      failures = 0;
      source = new EventSource(threadUrl("/events"));
      source.addEventListener("message", function (event) {
        failures = 0;
        onThreadMessages([parse(event.data)]);
      });
      source.addEventListener("status", function (event) {
        var data = parse(event.data);
        if (data) onThreadStatus(data.status);
      });
      source.addEventListener("gone", function () {
        ended();
      });
      source.onerror = function () {
        // EventSource reconnects by itself; after a few failures in a row, poll instead.
        failures += 1;
        if (failures >= 3) poll();
      };
    }

    function sendToStaff(text) {
      text = text.trim();
      if (!text || !inThread()) return;
      add({ role: "user", text: text });
      var h = state.handoff;
      postJSON("/api/handoff/" + encodeURIComponent(h.id) + "/messages", { token: h.token, text: text })
        .catch(function (err) {
          if (err && (err.status === 409 || err.status === 404)) ended();
          showError(err);
        });
    }

    function endThread() {
      if (!inThread()) return;
      var h = state.handoff;
      endButton.disabled = true;
      postJSON("/api/handoff/" + encodeURIComponent(h.id) + "/close", { token: h.token })
        .then(function () {
          add({ role: "info", text: TEXT.staffEnded });
          ended();
        })
        .catch(function (err) {
          if (err && (err.status === 409 || err.status === 404)) ended();
          else showError(err);
        })
        .then(function () {
          endButton.disabled = false;
        });
    }

    // -- opening, closing, keyboard ----------------------------------------------------------------

    function setOpen(open, focus) {
      panel.hidden = !open;
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      state.open = open;
      saveState();
      if (open) {
        scrollDown();
        if (focus) input.focus();
      } else if (focus) {
        launcher.focus();
      }
    }

    launcher.addEventListener("click", function () {
      setOpen(panel.hidden, true);
    });
    closeButton.addEventListener("click", function () {
      setOpen(false, true);
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        event.stopPropagation();
        setOpen(false, true);
      }
    });
    newButton.addEventListener("click", function () {
      if (controller) controller.abort();
      controller = null;
      setBusy(false);
      stopListening();
      state.session_id = null;
      state.messages = [];
      state.handoff = null;
      staffMode();
      saveState();
      renderAll();
      input.value = "";
      input.focus();
    });
    handoffButton.addEventListener("click", handoff);
    endButton.addEventListener("click", endThread);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = input.value;
      if (busy || !question.trim()) return;
      input.value = "";
      if (inThread()) sendToStaff(question);
      else ask(question);
      input.focus();
    });
    input.addEventListener("keydown", function (event) {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME candidate does neither.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        if (typeof form.requestSubmit === "function") form.requestSubmit();
        else form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });

    renderAll();
    staffMode();
    listen(); // a thread with staff that was open before the reload goes on
    if (state.open) setOpen(true, false);
  }

  if (document.body) build();
  else document.addEventListener("DOMContentLoaded", build);
})();
