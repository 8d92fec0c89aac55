/* Campaign pages: add a row to a formset (phases, sources). Loaded from a static file: no inline script. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var el = event.target instanceof Element ? event.target.closest("[data-formset-add]") : null;
    if (!el) return;
    var prefix = el.getAttribute("data-formset-add");
    var template = document.querySelector('template[data-formset-template="' + prefix + '"]');
    var body = document.querySelector('[data-formset-body="' + prefix + '"]');
    var total = document.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    if (!template || !body || !total) return;
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.querySelector("tr");
    if (!row) return;
    body.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  });
})();
