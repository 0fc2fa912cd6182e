// The lesson editor: Markdown fields in CodeMirror, each field's "missing" mark kept up to date.
// Everything here is an enhancement: without it the textareas work, and htmx previews on keyup.
(function () {
  "use strict";

  function markEmpty(field, value) {
    field.classList.toggle("is-empty", !value.trim());
  }

  function startEditor(textarea) {
    if (!window.CodeMirror || textarea.dataset.editorReady) return;
    textarea.dataset.editorReady = "1";
    var editor = window.CodeMirror.fromTextArea(textarea, {
      mode: "markdown",
      lineWrapping: true,
      viewportMargin: Infinity,
      // Tab moves on to the next field, as everywhere else on the page: prose needs no tabs.
      extraKeys: { Tab: false, "Shift-Tab": false },
    });
    editor.on("change", function () {
      editor.save();
      markEmpty(textarea.closest("[data-language-field]"), textarea.value);
      // htmx listens on the textarea ("keyup changed delay:500ms"): tell it the text changed.
      textarea.dispatchEvent(new KeyboardEvent("keyup"));
    });
    var label = document.getElementById(textarea.id + "-label");
    if (label) editor.getInputField().setAttribute("aria-labelledby", label.id);
  }

  function start() {
    document.querySelectorAll("textarea[data-markdown-editor]").forEach(startEditor);
    document.querySelectorAll("[data-language-field] input").forEach(function (input) {
      input.addEventListener("input", function () {
        markEmpty(input.closest("[data-language-field]"), input.value);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
