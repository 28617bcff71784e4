// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Words from the server (the #i18n JSON block in base.html), in the page's language:
  // crmText("offline"), crmText("no_answer", { status: 502 }), crmCount("records", 1234) -> "1,234 records"
  // (a plural's form is chosen by `count`, with the language's rules).
  var texts = null;
  var lang = document.documentElement.lang || "en";
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) { return name in values ? String(values[name]) : whole; });
  }
  window.crmText = function (key, values) {
    if (!texts) {
      var block = document.getElementById("i18n");
      texts = block ? JSON.parse(block.textContent) : {};
    }
    var text = texts[key];
    if (Array.isArray(text)) text = text[new Intl.PluralRules(lang).select(values.count) === "one" ? 0 : 1];
    return fill(text || key, values || {});
  };
  window.crmNumber = function (n) { return Number(n).toLocaleString(lang); };
  window.crmCount = function (key, n) { return window.crmText(key, { count: n, num: window.crmNumber(n) }); };

  // "Select all N matching" and "select page" checkboxes in list selections. "All matching" ticks
  // the rows shown; unticking one row ends "all matching" (as in Gmail), so the selection is then
  // exactly the ticked rows, never "all but the one you unticked".
  function tick(form, selector, checked) {
    form.querySelectorAll(selector).forEach(function (b) { b.checked = checked; });
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    var form = box.closest("form");
    if (box.matches("[data-select-page]")) {
      tick(form, "input[name=ids]", box.checked);
      if (!box.checked) tick(form, "[data-select-all]", false);
    } else if (box.matches("[data-select-all]")) {
      if (box.checked) tick(form, "input[name=ids], [data-select-page]", true);
    } else if (box.matches("input[name=ids]")) {
      if (!box.checked) tick(form, "[data-select-all], [data-select-page]", false);
    } else {
      return;
    }
    form.dispatchEvent(new Event("selection:changed", { bubbles: true }));
  });

  // On a phone the content gets the screen: panels marked data-fold-on-phone (the filters) start
  // folded behind their heading; the list's count says whether a filter applies.
  if (window.matchMedia("(max-width: 760px)").matches) {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(function (d) { d.open = false; });
  }

  // A filter request carries no empty fields, so the URL htmx pushes stays short and easy to share.
  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail.ctx;
    var body = ctx.request.body;
    if (ctx.request.method !== "GET" || !(body instanceof FormData) || !ctx.sourceElement.closest("form.filters")) return;
    var kept = Array.from(body.entries()).filter(function (e) { return e[1] !== ""; });
    Array.from(new Set(body.keys())).forEach(function (key) { body.delete(key); });
    kept.forEach(function (e) { body.append(e[0], e[1]); });
  });

  // A choice that is its own form (the pipeline, the language) takes effect when chosen; without JS
  // its button does it.
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  // Buttons that need a typed confirmation word: enabled only while the word matches.
  function syncConfirm(input) {
    var button = document.getElementById(input.dataset.confirmButton);
    if (button) button.disabled = input.value.trim() !== input.dataset.confirmWord;
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-confirm-word]")) syncConfirm(event.target);
  });

  // Mass change: "Mass change (N records)" follows the ticks (the list reloads itself after a change).
  function syncBulkButton(form) {
    var button = form && form.querySelector("[data-bulk-button]");
    if (!button) return;
    var all = form.querySelector("[data-select-all]");
    var n = all && all.checked ? Number(button.dataset.total)
                               : form.querySelectorAll("input[name=ids]:checked").length;
    button.querySelector("[data-bulk-count]").textContent = window.crmCount("records", n);
    button.querySelector("[data-bulk-tally]").hidden = false;
    button.disabled = n === 0;
  }
  // Colour swatches (map legend, territories) take their colour from data-color: the CSP allows no
  // style attributes, and a colour set through the DOM is never parsed as markup.
  function paint(root) {
    root.querySelectorAll("[data-color]").forEach(function (el) { el.style.backgroundColor = el.dataset.color; });
  }
  function enhance(root) {
    paint(root);
    root.querySelectorAll("[data-confirm-word]").forEach(syncConfirm);
    root.querySelectorAll("form").forEach(syncBulkButton);
    root.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
  }
  document.addEventListener("selection:changed", function (event) { syncBulkButton(event.target); });
  document.addEventListener("htmx:after:swap", function () { enhance(document); });
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });

  // Drawers: Close (or Escape) empties the drawer slot and gives focus back to what opened it;
  // focus moves into a drawer when it opens.
  var opener = null;
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[hx-target='#drawer']");
    if (el && !el.closest("#drawer")) opener = el;
  }, true);
  function closeDrawer() {
    var slot = document.getElementById("drawer");
    if (!slot || !slot.firstElementChild) return false;
    slot.replaceChildren();
    if (opener && document.contains(opener)) opener.focus();
    return true;
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("#drawer [data-drawer-close]") && closeDrawer()) event.preventDefault();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeDrawer();
  });
  document.addEventListener("htmx:after:swap", function (event) {
    var source = event.detail && event.detail.ctx && event.detail.ctx.sourceElement;
    if (source && source.matches && source.matches("[data-bulk-button]")) {
      var heading = document.querySelector("#drawer h2");
      if (heading) heading.focus();
    }
  });
})();
