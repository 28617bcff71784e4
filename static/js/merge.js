// Merge panel: picking another record to keep prefills the salesperson and team from it.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches(".merge-form input[name=survivor]")) return;
    var form = radio.closest("form");
    var owner = form.querySelector("select[name=owner]");
    var team = form.querySelector("select[name=team]");
    if (owner && owner.querySelector('option[value="' + radio.dataset.owner + '"]')) owner.value = radio.dataset.owner;
    if (team && team.querySelector('option[value="' + radio.dataset.team + '"]')) team.value = radio.dataset.team;
  });
})();
