// Merge panel: picking another record to keep prefills the salesperson and team from it.
(function () {
  "use strict";
  // Pick the option whose value is `value`, if there is one (compared as text, never put in a selector).
  function choose(select, value) {
    if (select && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      select.value = value;
    }
  }

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches(".merge-form input[name=survivor]")) return;
    var form = radio.closest("form");
    var owner = form.querySelector("select[name=owner]");
    var team = form.querySelector("select[name=team]");
    choose(owner, radio.dataset.owner);
    choose(team, radio.dataset.team);
  });
})();
