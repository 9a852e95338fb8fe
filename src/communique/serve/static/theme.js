/* Apply the saved light/dark choice before the page paints (no flash); app.js owns the toggle. */
(function () {
  try {
    var theme = localStorage.getItem("communique-theme");
    if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);
  } catch (e) { /* storage blocked: follow the system setting */ }
})();
