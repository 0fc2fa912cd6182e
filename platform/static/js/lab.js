// The lab: a code editor on the code tab, the failing line marked once a run ends live,
// and the run page's fallback from server-sent events to polling. Everything here is an
// enhancement: the pages work without it.
(function () {
  "use strict";

  function startEditor(textarea) {
    if (!window.CodeMirror || textarea.dataset.editorReady) return;
    textarea.dataset.editorReady = "1";
    var editor = window.CodeMirror.fromTextArea(textarea, {
      lineNumbers: true,
      mode: "python",
      indentUnit: 4,
      tabSize: 4,
      indentWithTabs: false,
      matchBrackets: true,
      styleActiveLine: true,
      viewportMargin: Infinity,
      extraKeys: {
        Tab: function (cm) {
          if (cm.somethingSelected()) cm.indentSelection("add");
          else cm.replaceSelection(" ".repeat(cm.getOption("indentUnit")), "end", "+input");
        },
        "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
        // Tab indents inside the editor; Escape hands the keyboard back to the page.
        Esc: function (cm) {
          var next = textarea.form.querySelector("button[type=submit]");
          cm.getInputField().blur();
          if (next) next.focus();
        },
      },
    });
    // The textarea's own input event: htmx saves the draft from it, a second after typing stops.
    editor.on("change", function () {
      editor.save();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    });
    var label = document.querySelector('label[for="' + textarea.id + '"]');
    if (label) editor.getInputField().setAttribute("aria-labelledby", label.id || (label.id = textarea.id + "-label"));
  }

  // Without EventSource, or when the stream keeps failing, poll the run fragment instead.
  function startPolling(run) {
    if (!run.dataset.pollUrl || run.dataset.polling) return;
    run.dataset.polling = "1";
    run.removeAttribute("sse-connect");
    run.removeAttribute("hx-ext");
    run.setAttribute("hx-get", run.dataset.pollUrl);
    run.setAttribute("hx-trigger", "every 1s");
    run.setAttribute("hx-swap", "outerHTML");
    window.htmx.process(run);
  }

  // A stream ends normally after a few minutes and the browser reconnects with
  // Last-Event-ID (readyState CONNECTING): that is no failure once it opens again. A
  // refusal (too many open, readyState CLOSED) or three failed tries in a row is.
  var failures = 0;
  document.addEventListener("htmx:sseError", function (event) {
    var run = document.getElementById("run");
    var source = event.detail && event.detail.source;
    failures += 1;
    if (run && ((source && source.readyState === 2) || failures >= 3)) {
      if (source && source.close) source.close();
      startPolling(run);
    }
  });
  document.addEventListener("htmx:sseOpen", function () { failures = 0; });
  document.addEventListener("htmx:sseMessage", function () { failures = 0; });

  // A run that ends while its page is open: mark the line of its error in the code shown
  // below (a page loaded after the end has it marked by the server).
  function markErrorLine() {
    var error = document.querySelector(".run-error[data-line]");
    var line = error && document.getElementById("code-line-" + error.dataset.line);
    if (line && !line.querySelector(".hll")) line.classList.add("hll");
  }

  function init(root) {
    root.querySelectorAll("textarea[data-editor]").forEach(startEditor);
    markErrorLine();
    var run = root.querySelector ? root.querySelector("#run[data-poll-url]") : null;
    if (run && !("EventSource" in window)) startPolling(run);
  }

  // Deferred scripts run after parsing and before htmx processes the page: switching to
  // polling here keeps the SSE extension from ever trying a missing EventSource.
  init(document);
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
