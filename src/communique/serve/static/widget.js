/* Communique article widget. A newsroom adds one line under each article:
 *
 *   <script src="https://communique.example.org/widget.js" data-article="ARTICLE_ID"></script>
 *
 * Where the tag stands it shows "Would you like to learn more? Ask our chatbot!"; the button opens a
 * floating chat panel (an iframe to /embed?article=ARTICLE_ID) whose answers come from that article.
 * Optional: data-label="..." replaces the question line. Markup and styles live in shadow roots, so the
 * host page's CSS and the widget's never touch each other. Esc or the close button closes the panel.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) return;
  var article = script.getAttribute("data-article");
  if (!article) {
    if (window.console) console.warn("Communique widget: the script tag needs data-article=\"ARTICLE_ID\"");
    return;
  }
  var base = new URL(".", script.src);
  var embedUrl = new URL("embed?article=" + encodeURIComponent(article), base);
  var question = script.getAttribute("data-label") || "Would you like to learn more?";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function icon(d) {
    var ns = "http://www.w3.org/2000/svg";
    var s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", d);
    s.append(p);
    return s;
  }

  function shadowHost(parent, before) {
    var host = el("div", "communique-widget");
    host.style.display = "none"; // shown once the stylesheet has loaded: no unstyled flash
    var root = host.attachShadow({ mode: "open" });
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("static/widget.css", base).href;
    link.addEventListener("load", function () { host.style.display = ""; });
    link.addEventListener("error", function () { host.style.display = ""; });
    root.append(link);
    parent.insertBefore(host, before || null);
    return root;
  }

  // -- the call to action, where the script tag stands -----------------------------------------------------
  var inline = shadowHost(script.parentNode, script.nextSibling);
  var cta = el("aside", "cta");
  cta.setAttribute("aria-label", "Ask about this article");
  var bubble = el("span", "cta-icon");
  bubble.append(icon("M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4h0A2.5 2.5 0 0 1 4 13.5Z"));
  var text = el("span", "cta-text");
  text.append(el("strong", null, question), el("span", null, "Get answers from this article, with the sentence they come from."));
  var open = el("button", "cta-btn", "Ask our chatbot!");
  open.type = "button";
  open.setAttribute("aria-haspopup", "dialog");
  open.setAttribute("aria-expanded", "false");
  cta.append(bubble, text, open);
  inline.append(cta);

  // -- the floating panel, created on first open -----------------------------------------------------------
  var panel = null;
  var frame = null;

  function build() {
    var root = shadowHost(document.body, null);
    panel = el("div", "panel");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Chat about this article");
    panel.hidden = true;
    var head = el("div", "panel-head");
    var title = el("span", "panel-title", "Ask our chatbot");
    var close = el("button", "panel-close");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    close.append(icon("M6 6l12 12M18 6L6 18"));
    close.addEventListener("click", hide);
    head.append(title, close);
    frame = el("iframe", "panel-frame");
    frame.title = "Chat about this article";
    frame.src = embedUrl.href;
    frame.addEventListener("load", function () {
      if (!panel.hidden) focusChat();
    });
    panel.append(head, frame);
    root.append(panel);
  }

  function focusChat() {
    try { frame.contentWindow.postMessage({ type: "communique:focus" }, embedUrl.origin); } catch (e) { /* ignore */ }
    frame.focus();
  }

  function show() {
    if (!panel) build();
    panel.hidden = false;
    open.setAttribute("aria-expanded", "true");
    focusChat();
  }

  function hide() {
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    open.setAttribute("aria-expanded", "false");
    open.focus();
  }

  open.addEventListener("click", function () {
    if (panel && !panel.hidden) hide(); else show();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") hide();
  });
  window.addEventListener("message", function (e) {
    if (frame && e.source === frame.contentWindow && e.data && e.data.type === "communique:close") hide();
  });
})();
