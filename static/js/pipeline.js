// Kanban drag-and-drop: SortableJS moves cards between stage columns and onto the drop zones
// (Move to leads, Won, Lost, Delete). Every move POSTs to the card's move URL; on failure the card
// goes back where it was and the message is announced. Without JS the "Move to…" menu does the same.
(function () {
  "use strict";

  var NARROW = window.matchMedia("(max-width: 760px)"); // read-only (but scrollable) on phones

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function say(board, text, isError) {
    var status = document.getElementById("board-status");
    if (!status) return;
    status.textContent = text;
    status.className = "board-status message" + (isError ? " error" : "");
  }

  function confirmDrop(zone, card) {
    var question = zone.dataset.confirm;
    var dialog = document.getElementById("drop-confirm");
    if (!question || !dialog || !dialog.showModal) return Promise.resolve(true);
    document.getElementById("drop-confirm-text").textContent = question.replace("{title}", card.dataset.title);
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function once() {
        dialog.removeEventListener("close", once);
        resolve(dialog.returnValue === "ok");
      });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  function updateTotals(board, totals) {
    board.querySelectorAll(".board-column").forEach(function (column) {
      var t = totals[column.dataset.stage] || { count: 0, total: "€0" };
      column.querySelector("[data-count]").textContent = Number(t.count).toLocaleString("en");
      column.querySelector("[data-total]").textContent = t.total;
    });
  }

  function post(board, card, target) {
    var body = new URLSearchParams(board.dataset.boardArgs || "");
    body.set("to", target);
    return fetch(card.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json",
                 "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () {
        return { ok: false, message: "The server did not answer (" + response.status + "). Nothing changed." };
      });
    }, function () {
      return { ok: false, message: "The network is down. Nothing changed." };
    });
  }

  function putBack(card) {
    card._origin.parent.insertBefore(card, card._origin.next);
  }

  function onDrop(board, evt) {
    var card = evt.item, target = evt.to.dataset.target;
    if (evt.to === evt.from || !target) return;
    confirmDrop(evt.to, card).then(function (ok) {
      if (!ok) { putBack(card); say(board, "Nothing changed."); return; }
      card.classList.add("saving");
      post(board, card, target).then(function (answer) {
        card.classList.remove("saving");
        if (!answer.ok) { putBack(card); say(board, answer.message, true); return; }
        var column = answer.stage_id && board.querySelector('.cards[data-target="stage:' + answer.stage_id + '"]');
        if (!column) card.remove(); else if (card.parentNode !== column) column.prepend(card);
        updateTotals(board, answer.totals || {});
        say(board, answer.message, false);
      });
    });
  }

  function init(root) {
    // htmx.onLoad passes elements, the first call the document (which has no matches()).
    var board = root.matches && root.matches("[data-board]") ? root
      : root.querySelector ? root.querySelector("[data-board]") : null;
    if (!board || board._sortable || NARROW.matches || !window.Sortable) return;
    board._sortable = true;
    var options = {
      group: { name: "deals", pull: true, put: true },
      draggable: ".deal-card:not(.locked)",
      handle: ".drag-handle",
      forceFallback: true, // mouse/touch emulation: the same on every browser and in tests
      fallbackOnBody: true,
      animation: 120,
      onStart: function (evt) {
        evt.item._origin = { parent: evt.from, next: evt.item.nextSibling };
        zones(board).hidden = false;
        document.body.classList.add("dragging-deal");
      },
      onEnd: function (evt) {
        zones(board).hidden = true;
        document.body.classList.remove("dragging-deal");
        onDrop(board, evt);
      }
    };
    board.querySelectorAll(".cards").forEach(function (list) { new Sortable(list, options); });
    zones(board).querySelectorAll(".drop-zone").forEach(function (zone) {
      new Sortable(zone, { group: { name: "deals", pull: false, put: true }, draggable: ".deal-card" });
    });
  }

  function zones(board) {
    return board.closest(".board-wrap").querySelector(".drop-zones");
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  function start() {
    if (window.htmx) htmx.onLoad(function (elt) { init(elt); });
    init(document);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
