// Opens a link's page fragment in a <dialog> (lead Convert, deal "Convert to lead"); without JS the link opens the page.
(function () {
  "use strict";
  if (window.__dialogLinks) return;
  window.__dialogLinks = true;
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-open-dialog]");
    var dialog = link && document.getElementById(link.dataset.openDialog);
    if (!dialog || !dialog.showModal) return;
    if (!window.htmx) return; // the link opens the page instead
    event.preventDefault();
    // htmx swaps the server's fragment in (as it does everywhere); no string is put in as HTML here.
    htmx.ajax("GET", link.href, { target: dialog, swap: "innerHTML" }).then(function () {
      dialog.showModal();
      var first = dialog.querySelector("input:not([type=hidden]), select, button");
      if (first) first.focus();
    });
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
