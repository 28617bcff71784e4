// Dialog links (lead Convert, deal "Convert to lead") load their page's fragment with hx-get into a
// <dialog>; once htmx has swapped it in, the dialog opens with focus on its first control. Without
// JS the link opens the page.
(function () {
  "use strict";
  if (window.__dialogLinks) return;
  window.__dialogLinks = true;
  document.addEventListener("htmx:after:swap", function (event) {
    var dialog = event.detail && event.detail.ctx && event.detail.ctx.target;
    if (!dialog || dialog.tagName !== "DIALOG" || !dialog.showModal) return;
    if (!dialog.open) dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, button");
    if (first) first.focus();
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-close-dialog]")) {
      event.preventDefault();
      event.target.closest("dialog").close();
    }
  });
})();

// Convert dialog: deal pools hand out deals, so without "Create a deal" they cannot be chosen.
(function () {
  "use strict";
  if (window.__convertDealPools) return;
  window.__convertDealPools = true;
  document.addEventListener("change", function (event) {
    var box = event.target.closest("input[data-deal-pools]");
    var owner = box && box.form && box.form.elements.owner;
    if (!owner) return;
    var dealPools = box.dataset.dealPools.split(" ");
    Array.prototype.forEach.call(owner.options, function (option) {
      if (dealPools.indexOf(option.value) !== -1) option.disabled = !box.checked;
    });
    if (owner.selectedOptions[0] && owner.selectedOptions[0].disabled) owner.selectedIndex = 0;
  });
})();
