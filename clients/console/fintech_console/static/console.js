/* Progressive enhancement for the console. Every page works without this file: forms post and
   redirect, lists page with links, the audit verification runs to its end on the server. With it:
   a busy state on submitted forms, and live progress for streamed operations. No inline script
   anywhere (the CSP forbids it). */
(function () {
  "use strict";

  // Live progress: <form data-progress-form="/events-url"> and a sibling <section data-progress-panel>
  // holding <progress>, [data-progress-text] and [data-progress-result]. The server sends Server-Sent
  // Events: "progress" {done,total,text}, then "result" {ok,text} or "failure" {text}.
  function followProgress(form, event) {
    var panel = document.querySelector("[data-progress-panel]");
    if (!panel || !window.EventSource) return false;
    event.preventDefault();
    var params = new URLSearchParams(new FormData(form));
    params.delete("run");
    var bar = panel.querySelector("progress");
    var text = panel.querySelector("[data-progress-text]");
    var result = panel.querySelector("[data-progress-result]");
    var button = form.querySelector("button[type=submit]");
    panel.hidden = false;
    result.hidden = true;
    result.removeAttribute("data-outcome");
    bar.removeAttribute("value");  // indeterminate until the first progress message
    text.textContent = "Starting…";
    if (button) button.disabled = true;
    var finished = false;
    var source = new EventSource(form.getAttribute("data-progress-form") + "?" + params.toString());
    function finish(ok, message) {
      finished = true;
      source.close();
      if (button) button.disabled = false;
      result.textContent = message;
      result.className = ok ? "flash" : "problem";
      result.setAttribute("data-outcome", ok ? "verified" : "failed");
      result.setAttribute("role", ok ? "status" : "alert");
      result.hidden = false;
    }
    source.addEventListener("progress", function (e) {
      var data = JSON.parse(e.data);
      if (data.total > 0) { bar.max = data.total; bar.value = data.done; }
      text.textContent = data.text;
    });
    source.addEventListener("result", function (e) {
      var data = JSON.parse(e.data);
      if (data.ok) bar.value = bar.max;
      finish(data.ok, data.text);
    });
    source.addEventListener("failure", function (e) { finish(false, JSON.parse(e.data).text); });
    source.onerror = function () {
      if (!finished) finish(false, "The connection to the console was lost before the result arrived.");
    };
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    if (form.hasAttribute("data-progress-form") && followProgress(form, event)) return;
    // Busy state: disable the submit button (after dispatch, so its value is still sent) and show
    // the form's [data-loading] message.
    var button = form.querySelector("button[type=submit]");
    if (button) setTimeout(function () { button.disabled = true; }, 0);
    var loading = form.querySelector("[data-loading]");
    if (loading) loading.hidden = false;
  });
})();
