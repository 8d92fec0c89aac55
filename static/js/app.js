/* Small behaviours for 整改台账. Loaded from a static file: the pages carry no inline script. */
(function () {
  "use strict";

  // Forms that change something important ask first: <form data-confirm="确定……？">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    // Avoid double submission of a slow upload or import.
    if (form.hasAttribute("data-once")) {
      // A disabled button's name=value is not sent, so carry the clicked one in a hidden field first.
      if (submitter && submitter.name) {
        var carried = document.createElement("input");
        carried.type = "hidden";
        carried.name = submitter.name;
        carried.value = submitter.value;
        form.appendChild(carried);
      }
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.disabled = true;
      });
    }
  });

  document.addEventListener("click", function (event) {
    var el = event.target instanceof Element ? event.target : null;
    if (!el) return;

    // Unit tree: 全部展开 / 全部折叠.
    var toggle = el.closest("[data-tree-toggle]");
    if (toggle) {
      var root = document.querySelector(toggle.getAttribute("data-tree-target"));
      var open = toggle.getAttribute("data-tree-toggle") === "open";
      if (root) {
        root.querySelectorAll("details").forEach(function (d) {
          d.open = open;
        });
      }
      return;
    }

    // Copy a one-time password to the clipboard.
    var copy = el.closest("[data-copy-target]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy-target"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copy.textContent = "已复制";
        });
      }
    }
  });
})();
