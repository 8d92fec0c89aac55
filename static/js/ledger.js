/* 问题台账 pages: bulk selection, the two-mode deadline input, the 回头看 draw form, required opinions. */
(function () {
  "use strict";

  // ---- Bulk assign: enable the button and count the ticked drafts; "select all" ticks only drafts.
  function refreshBulk(form) {
    var items = form.querySelectorAll("[data-bulk-item]");
    var ticked = form.querySelectorAll("[data-bulk-item]:checked").length;
    var button = form.querySelector("[data-bulk-submit]");
    var count = form.querySelector("[data-bulk-count]");
    var all = form.querySelector("[data-check-all]");
    if (button) button.disabled = ticked === 0;
    if (count) count.textContent = ticked ? "已选 " + ticked + " 个待分派问题" : "勾选“待分派”的问题后可一次分派多个";
    if (all) {
      all.disabled = items.length === 0;
      all.checked = items.length > 0 && ticked === items.length;
    }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLInputElement)) return;
    var form = el.form;
    if (el.hasAttribute("data-check-all") && form) {
      form.querySelectorAll("[data-bulk-item]").forEach(function (box) {
        box.checked = el.checked;
      });
    }
    if (form && (el.hasAttribute("data-check-all") || el.hasAttribute("data-bulk-item"))) refreshBulk(form);
    if (el.name === "deadline_mode") showDeadlineMode(el.closest("[data-deadline-input]"));
    if (el.name === "method" && el.closest("[data-lookback-form]")) showDrawMethod(el.closest("[data-lookback-form]"));
  });

  // ---- The deadline: show the panel for the chosen mode (without JavaScript both stay visible).
  function showDeadlineMode(box) {
    if (!box) return;
    var checked = box.querySelector("input[name=deadline_mode]:checked");
    var mode = checked ? checked.value : "date";
    box.querySelectorAll("[data-mode-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-mode-panel") !== mode;
    });
  }

  // ---- 回头看: show only the input the chosen way of drawing needs.
  function showDrawMethod(form) {
    var checked = form.querySelector("input[name=method]:checked");
    var method = checked ? checked.value : "";
    form.querySelectorAll("[data-method-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-method-panel") !== method;
    });
  }

  // ---- A return needs an opinion: say so before the confirmation dialog rather than after a round trip.
  document.addEventListener(
    "submit",
    function (event) {
      var submitter = event.submitter;
      var selector = submitter && submitter.getAttribute("data-require");
      if (!selector) return;
      var field = document.querySelector(selector);
      if (field && !field.value.trim()) {
        event.preventDefault();
        event.stopPropagation();
        field.classList.add("is-invalid");
        field.setAttribute("placeholder", "退回时请填写核查意见");
        field.focus();
      }
    },
    true
  );

  function init(root) {
    root.querySelectorAll("[data-deadline-input]").forEach(showDeadlineMode);
    root.querySelectorAll("[data-lookback-form]").forEach(showDrawMethod);
    root.querySelectorAll("#bulk-assign").forEach(refreshBulk);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  // Content swapped in by htmx (the inline progress form) gets the same behaviour.
  document.addEventListener("htmx:load", function (event) {
    init(event.target);
  });
})();
