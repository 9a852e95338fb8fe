/* Communique web UI: the chat (streamed over Server-Sent Events), citations, source cards, theme.
 *
 * Plain JavaScript, no build step, no dependencies. Everything that comes from articles or answers is
 * untrusted and is put into the page with textContent / text nodes only, never as HTML.
 */
(function () {
  "use strict";

  var THEME_KEY = "communique-theme";
  var MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
  var BUSY_RETRIES = 3; // a busy server's 503 (or a 429) is tried again this many times, after its Retry-After
  var dayFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

  // -- small helpers -------------------------------------------------------------------------------------
  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value == null || value === false) return;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child != null) node.append(child); // strings become text nodes
    });
    return node;
  }

  function pause(ms, signal) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", function () {
        clearTimeout(timer);
        reject(new DOMException("The question was stopped.", "AbortError"));
      }, { once: true });
    });
  }

  function svg(paths) {
    var ns = "http://www.w3.org/2000/svg";
    var node = document.createElementNS(ns, "svg");
    node.setAttribute("viewBox", "0 0 24 24");
    node.setAttribute("aria-hidden", "true");
    node.setAttribute("class", "icon");
    paths.forEach(function (d) {
      var p = document.createElementNS(ns, "path");
      p.setAttribute("d", d);
      node.append(p);
    });
    return node;
  }

  var ICONS = {
    copy: ["M9 9h10v10H9z", "M5 15V5h10"],
    check: ["M5 12.5l4.5 4.5L19 7.5"],
    close: ["M6 6l12 12M18 6L6 18"],
    compass: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z", "M15.5 8.5l-2 5-5 2 2-5 5-2Z"],
    alert: ["M12 4 2.5 20h19L12 4Z", "M12 10v4.5M12 17.5v.01"],
    retry: ["M4 12a8 8 0 0 1 14-5.3L20 9", "M20 4v5h-5", "M20 12a8 8 0 0 1-14 5.3L4 15", "M4 20v-5h5"],
    external: ["M14 5h5v5", "M19 5l-8 8", "M17 14v5H5V7h5"],
    arrow: ["M5 12h14", "M13 6l6 6-6 6"]
  };

  function prettyDay(iso) {
    if (!iso) return "Undated";
    var d = new Date(iso + "T00:00:00Z");
    return isNaN(d.getTime()) ? String(iso) : dayFormat.format(d);
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url.trim()) ? url.trim() : null;
  }

  function articleHref(id, quote) {
    var href = "/articles/" + encodeURIComponent(id);
    // A text fragment: Chromium scrolls to the quoted sentence and highlights it.
    var enc = function (s) { return encodeURIComponent(s).replace(/-/g, "%2D"); };
    var first = quoteParts(quote)[0];
    if (!first) return href;
    var words = first.replace(/\s+/g, " ").split(" ");
    var frag = words.length <= 8 ? enc(words.join(" "))
      : enc(words.slice(0, 4).join(" ")) + "," + enc(words.slice(-4).join(" "));
    return href + "#:~:text=" + frag;
  }

  function sourcesText(answer) {
    var lines = (answer.citations || []).map(function (c) {
      return "[" + c.n + "] " + c.title + (c.published ? " (" + c.published + ")" : "") + (c.url ? " " + c.url : "");
    });
    return answer.answer + (lines.length ? "\n\nSources:\n" + lines.join("\n") : "");
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }

  function fallbackCopy(text) {
    var area = h("textarea", { class: "visually-hidden", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
  }

  // -- Server-Sent Events over fetch ---------------------------------------------------------------------
  function parseBlock(block) {
    var event = "message";
    var data = [];
    block.split(/\r?\n/).forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var i = line.indexOf(":");
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    });
    if (!data.length) return null;
    try { return { event: event, data: JSON.parse(data.join("\n")) }; } catch (e) { return null; }
  }

  async function* sseEvents(response) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      for (var i = 0; i < blocks.length; i++) {
        var ev = parseBlock(blocks[i]);
        if (ev) yield ev;
      }
    }
    buffer += decoder.decode();
    var last = buffer.trim() ? parseBlock(buffer) : null;
    if (last) yield last;
  }

  // -- answer text with [n] citation buttons -------------------------------------------------------------
  function renderText(target, text, citations, onCite) {
    var byN = {};
    (citations || []).forEach(function (c) { byN[c.n] = c; });
    target.textContent = "";

    function inline(node, line) {  // text with its [n] markers turned into source buttons
      var last = 0;
      line.replace(MARKER, function (match, nums, offset) {
        node.append(line.slice(last, offset));
        last = offset + match.length;
        var numbers = nums.split(",").map(function (n) { return parseInt(n, 10); });
        var group = h("span", { class: "cites" });
        numbers.forEach(function (n) {
          var c = byN[n];
          if (c && onCite) {
            var btn = h("button", {
              type: "button", class: "cite", "data-n": n, text: String(n),
              "aria-label": "Source " + n + ": " + c.title, title: c.title
            });
            btn.addEventListener("click", function () { onCite(c, btn); });
            group.append(btn);
          } else {
            group.append(h("span", { class: "cite cite--pending", text: String(n) }));
          }
        });
        node.append(group);
        return match;
      });
      node.append(line.slice(last));
      return node;
    }

    text.split(/\n{2,}/).forEach(function (para) {
      if (!para.trim()) return;
      var list = null;
      var p = null;
      para.split("\n").forEach(function (line) {
        if (/^\s*•\s/.test(line)) {  // one story per line: "• Title (date): lead [n]"
          if (!list) { list = h("ul", { class: "story-list" }); target.append(list); }
          var item = line.replace(/^\s*•\s*/, "");
          var head = /^(.+?) \((\d{4}-\d{2}-\d{2}|undated)\): /.exec(item);
          var li = h("li");
          if (head) {
            li.append(h("strong", { text: head[1] }), " ", h("span", { class: "story-date", text: head[2] }), " ");
            item = item.slice(head[0].length);
          }
          list.append(inline(li, item));
          p = null;
          return;
        }
        list = null;
        if (!line.trim()) return;
        if (p) p.append(" ");
        else { p = h("p"); target.append(p); }
        inline(p, line);
      });
    });
  }

  // -- the source card -----------------------------------------------------------------------------------
  var card = null;

  function sourceCard() {
    if (card) return card;
    var dialog = h("dialog", { class: "source-card", "aria-labelledby": "source-card-title" });
    var close = h("button", { type: "button", class: "icon-btn sc-close", "aria-label": "Close source" }, [svg(ICONS.close)]);
    var parts = {
      dialog: dialog,
      num: h("span", { class: "sc-num" }),
      title: h("h2", { id: "source-card-title", class: "sc-title" }),
      meta: h("p", { class: "sc-meta" }),
      context: h("div", { class: "sc-quote-body" }),
      read: h("a", { class: "btn btn-primary sc-read" }, ["Read the article", svg(ICONS.arrow)]),
      original: h("a", { class: "btn btn-ghost sc-original", target: "_blank", rel: "noopener noreferrer" },
        ["Original", svg(ICONS.external)]),
      trigger: null,
      token: 0
    };
    dialog.append(
      h("div", { class: "sc-head" }, [parts.num, close]),
      parts.title, parts.meta,
      h("blockquote", { class: "sc-quote" }, [parts.context]),
      h("div", { class: "sc-links" }, [parts.read, parts.original])
    );
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
    dialog.addEventListener("close", function () {
      if (parts.trigger && document.contains(parts.trigger)) parts.trigger.focus();
    });
    document.body.append(dialog);
    card = parts;
    return card;
  }

  // A quote may join sentences with " … "; each part is highlighted where it stands in the article.
  function quoteParts(quote) {
    return String(quote || "").split(/\s*…\s*/).map(function (p) { return p.trim(); }).filter(Boolean);
  }

  function highlighted(paragraph, parts) {
    var spans = [];
    parts.forEach(function (part) {
      var at = paragraph.indexOf(part);
      if (at >= 0) spans.push([at, at + part.length]);
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var p = h("p", { class: "sc-context" });
    var pos = 0;
    var first = spans.length ? spans[0][0] : 0;
    if (first > 260) {
      pos = paragraph.lastIndexOf(" ", first - 220) + 1;
      p.append("…");
    }
    spans.forEach(function (span) {
      if (span[0] < pos) return;
      p.append(paragraph.slice(pos, span[0]), h("mark", { text: paragraph.slice(span[0], span[1]) }));
      pos = span[1];
    });
    var rest = paragraph.slice(pos);
    if (rest.length > 260) rest = rest.slice(0, 240).replace(/\s\S*$/, "") + "…";
    p.append(rest);
    return p;
  }

  function showQuote(target, text, quote) {
    var parts = quoteParts(quote);
    var paragraphs = (text || "").split(/\n{2,}/).filter(function (para) {
      return parts.some(function (part) { return para.indexOf(part) >= 0; });
    }).slice(0, 3);
    target.textContent = "";
    if (!paragraphs.length) {
      target.append(h("p", { class: "sc-context" }, [h("mark", { text: quote })]));
      return;
    }
    paragraphs.forEach(function (para) { target.append(highlighted(para, parts)); });
  }

  function openCard(citation, trigger) {
    var c = sourceCard();
    var token = ++c.token;
    c.trigger = trigger || null;
    c.num.textContent = "Source " + citation.n;
    c.title.textContent = citation.title;
    c.meta.textContent = prettyDay(citation.published);
    showQuote(c.context, null, citation.quote);
    c.read.setAttribute("href", articleHref(citation.article_id, citation.quote));
    var original = safeUrl(citation.url);
    c.original.hidden = !original;
    if (original) c.original.setAttribute("href", original); else c.original.removeAttribute("href");
    if (!c.dialog.open) c.dialog.showModal();
    fetch("/api/articles/" + encodeURIComponent(citation.article_id))
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (article) {
        if (!article || token !== c.token) return;
        var meta = [article.source, prettyDay(article.published)].filter(Boolean);
        c.meta.textContent = meta.join(" · ");
        showQuote(c.context, article.text, citation.quote);
      })
      .catch(function () { /* the quote alone is still shown */ });
  }

  // -- a chat --------------------------------------------------------------------------------------------
  function Chat(root) {
    this.root = root;
    this.log = root.querySelector(".chat-log");
    this.form = root.querySelector("[data-composer]");
    this.input = this.form.querySelector("textarea");
    this.sendButton = this.form.querySelector(".send-btn");
    this.article = root.getAttribute("data-article");
    this.welcome = this.log.querySelector("[data-welcome]");
    this.history = [];
    this.controller = null;
    this.busy = false;
    var self = this;
    this.form.addEventListener("submit", function (e) {
      e.preventDefault();
      self.submit();
    });
    this.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        self.submit();
      }
    });
    this.input.addEventListener("input", function () { self.autosize(); });
    this.log.addEventListener("click", function (e) {
      var chip = e.target.closest("[data-ask]");
      if (chip && self.log.contains(chip)) self.ask(chip.getAttribute("data-ask"));
    });
  }

  Chat.prototype.autosize = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight, 180) + "px";
  };

  Chat.prototype.submit = function () {
    var question = this.input.value.trim();
    if (!question || this.busy) return;
    this.input.value = "";
    this.autosize();
    this.ask(question);
  };

  Chat.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.sendButton.disabled = busy;
    this.root.classList.toggle("is-busy", busy);
  };

  Chat.prototype.nearBottom = function () {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 120;
  };

  Chat.prototype.scroll = function (force) {
    if (force || this.stick) this.log.scrollTop = this.log.scrollHeight;
  };

  Chat.prototype.reset = function () {
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.setBusy(false);
    this.history = [];
    this.log.textContent = "";
    if (this.welcome) this.log.append(this.welcome);
    this.input.value = "";
    this.autosize();
    this.input.focus();
  };

  Chat.prototype.ask = async function (question) {
    question = (question || "").trim();
    if (!question || this.busy) return;
    if (this.welcome && this.welcome.parentNode) this.welcome.remove();
    var status = h("p", { class: "status", role: "status" }, [
      h("span", { class: "typing", "aria-hidden": "true" }, [h("i"), h("i"), h("i")]),
      h("span", { class: "status-text", text: this.article ? "Reading the article…" : "Searching the articles…" })
    ]);
    var body = h("div", { class: "answer-text" });
    var answerCard = h("article", { class: "msg msg--assistant", "aria-busy": "true" }, [status, body]);
    var turn = h("div", { class: "turn" }, [h("div", { class: "msg msg--user" }, [h("p", { text: question })]), answerCard]);
    this.log.append(turn);
    this.stick = true;
    this.scroll(true);
    this.setBusy(true);
    var controller = new AbortController();
    this.controller = controller;
    var payload = { question: question, history: this.history.slice() };
    if (this.article) payload.filters = { article_ids: [this.article] };
    var text = "";
    var final = null;
    try {
      var res = null;
      for (var attempt = 0; ; attempt++) {
        res = await fetch("/api/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
          body: JSON.stringify(payload),
          signal: controller.signal
        });
        // busy or rate-limited: wait as the server asks, a few times, before telling the reader
        var wait = Number(res.headers.get("Retry-After"));
        if ((res.status !== 503 && res.status !== 429) || !(wait > 0 && wait <= 30) || attempt >= BUSY_RETRIES) break;
        status.querySelector(".status-text").textContent = "Many readers are asking right now: trying again…";
        await pause(wait * 1000, controller.signal);
      }
      if (!res.ok) {
        var err = await res.json().catch(function () { return null; });
        throw new Error(err && err.error ? err.error.message : "The server answered with status " + res.status + ".");
      }
      for await (var ev of sseEvents(res)) {
        this.stick = this.nearBottom();
        if (ev.event === "sources") {
          var n = (ev.data.sources || []).length;
          status.querySelector(".status-text").textContent = n
            ? "Reading " + n + " article" + (n === 1 ? "" : "s") + "…" : "Looking for an answer…";
        } else if (ev.event === "delta") {
          text += ev.data.text;
          status.hidden = true;
          renderText(body, text, null, null);
        } else if (ev.event === "answer") {
          final = ev.data;
        } else if (ev.event === "error") {
          throw new Error(ev.data.error ? ev.data.error.message : "The answer failed.");
        }
        this.scroll(false);
      }
      if (!final) throw new Error("The answer stopped before it was complete.");
      this.finish(answerCard, status, body, final);
      this.history.push({ role: "user", content: question }, { role: "assistant", content: final.answer });
    } catch (e) {
      if (e.name === "AbortError") return;
      this.fail(turn, answerCard, status, body, e.message || String(e), question);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.setBusy(false);
      }
    }
    this.scroll(false);
  };

  Chat.prototype.finish = function (answerCard, status, body, answer) {
    answerCard.removeAttribute("aria-busy");
    status.remove();
    var citations = answer.citations || [];
    if (answer.refused) {
      answerCard.classList.add("msg--refused");
      body.textContent = "";
      body.append(
        h("p", { class: "refusal-head" }, [svg(ICONS.compass), h("strong", { text: "Not in the articles I have" })]),
        h("p", { text: answer.answer }),
        h("p", { class: "refusal-tip" }, [
          "Try rephrasing with a name, place or date" + (this.article ? "." : " — or "),
          this.article ? null : h("a", { href: "/articles", text: "browse the articles" }),
          this.article ? null : "."
        ])
      );
    } else {
      renderText(body, answer.answer, citations, openCard);
    }
    if (!answer.refused && citations.length) {
      var list = h("ol", { class: "source-list" });
      citations.forEach(function (c) {
        var btn = h("button", { type: "button", class: "source-chip", "aria-label": "Source " + c.n + ": " + c.title }, [
          h("span", { class: "source-n", text: String(c.n) }),
          h("span", { class: "source-title", text: c.title }),
          h("span", { class: "source-date", text: prettyDay(c.published) })
        ]);
        btn.addEventListener("click", function () { openCard(c, btn); });
        list.append(h("li", null, [btn]));
      });
      answerCard.append(h("div", { class: "sources" }, [h("p", { class: "label", text: "Sources" }), list]));
    }
    if ((answer.followups || []).length) {
      answerCard.append(h("div", { class: "followups" }, [
        h("p", { class: "label", text: answer.refused ? "You could ask" : "Keep exploring" }),
        h("div", { class: "suggestions" }, answer.followups.map(function (q) {
          return h("button", { type: "button", class: "chip", "data-ask": q, text: q });
        }))
      ]));
    }
    var copy = h("button", { type: "button", class: "btn btn-ghost btn-small copy-answer" },
      [svg(ICONS.copy), h("span", { text: "Copy answer" })]);
    copy.addEventListener("click", function () {
      copyText(sourcesText(answer)).then(function () {
        copy.querySelector("span").textContent = "Copied";
        copy.classList.add("is-done");
        setTimeout(function () {
          copy.querySelector("span").textContent = "Copy answer";
          copy.classList.remove("is-done");
        }, 1800);
      });
    });
    answerCard.append(h("div", { class: "actions" }, [copy]));
  };

  Chat.prototype.fail = function (turn, answerCard, status, body, message, question) {
    var self = this;
    answerCard.removeAttribute("aria-busy");
    answerCard.classList.add("msg--error");
    status.remove();
    body.textContent = "";
    var retry = h("button", { type: "button", class: "btn btn-ghost btn-small" }, [svg(ICONS.retry), h("span", { text: "Try again" })]);
    retry.addEventListener("click", function () {
      turn.remove();
      self.ask(question);
    });
    body.append(
      h("p", { class: "refusal-head" }, [svg(ICONS.alert), h("strong", { text: "Something went wrong" })]),
      h("p", { text: message }),
      h("div", { class: "actions" }, [retry])
    );
  };

  // -- theme ---------------------------------------------------------------------------------------------
  function currentTheme() {
    var set = document.documentElement.getAttribute("data-theme");
    if (set) return set;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function labelThemeButtons() {
    var next = currentTheme() === "dark" ? "light" : "dark";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (btn) {
      btn.setAttribute("aria-label", "Switch to " + next + " theme");
      btn.setAttribute("title", "Switch to " + next + " theme");
    });
  }

  function toggleTheme() {
    var next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* not saved, still applied */ }
    labelThemeButtons();
  }

  // -- start ---------------------------------------------------------------------------------------------
  function start() {
    var chats = Array.prototype.map.call(document.querySelectorAll("[data-chat]"), function (root) { return new Chat(root); });
    window.communique = { chats: chats, openCard: openCard };
    document.querySelectorAll("[data-new-chat]").forEach(function (btn) {
      btn.addEventListener("click", function () { chats.forEach(function (c) { c.reset(); }); });
    });
    document.querySelectorAll("[data-theme-toggle]").forEach(function (btn) { btn.addEventListener("click", toggleTheme); });
    labelThemeButtons();
    if (document.body.classList.contains("page-embed") && window.parent !== window) {
      document.addEventListener("keydown", function (e) {
        if (e.key === "Escape" && !(card && card.dialog.open)) window.parent.postMessage({ type: "communique:close" }, "*");
      });
      window.addEventListener("message", function (e) {
        if (e.source === window.parent && e.data && e.data.type === "communique:focus" && chats[0]) chats[0].input.focus();
      });
    }
    if (document.body.classList.contains("page-chat") && chats[0]) chats[0].input.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
