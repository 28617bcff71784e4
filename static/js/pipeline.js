// Kanban: SortableJS moves cards between stage columns and onto the drop zones (Move to leads, Won,
// Lost, Delete); the "Move to…" menu of each card does the same from the keyboard or a phone. Both
// ask the same question before a card leaves the board, POST to the card's move URL, then put the
// card in its new column, update the column totals and the board's count, and give focus back to
// the card. On failure the card stays where it was and the message is announced. Without JS the
// menu's buttons submit the form and the server asks and answers with pages.
(function () {
  "use strict";

  var NARROW = window.matchMedia("(max-width: 760px)"); // no dragging on phones: the menu moves cards

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function say(text, isError) {
    var status = document.getElementById("board-status");
    if (!status) return;
    status.textContent = text;
    status.className = "board-status message" + (isError ? " error" : "");
  }

  function zones(board) {
    return board.closest(".board-wrap").querySelector(".drop-zones");
  }

  function ask(board, target, card) {
    var zone = zones(board).querySelector('.drop-zone[data-target="' + target + '"]');
    var question = zone && zone.dataset.confirm;
    var dialog = document.getElementById("drop-confirm");
    if (!question || !dialog || !dialog.showModal) return Promise.resolve(true);
    // split/join, not replace(): a title holding "$&" must be shown as typed
    document.getElementById("drop-confirm-text").textContent = question.split("{title}").join(card.dataset.title || "");
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
      column.querySelector("[data-count]").textContent = window.crmNumber(t.count);
      column.querySelector("[data-total]").textContent = t.total;
    });
  }

  function updateCount(board, count) {
    var form = board.closest("form");
    if (!count || !form) return;
    form.querySelectorAll("[data-board-count]").forEach(function (el) { el.textContent = count.number; });
    form.querySelectorAll("[data-board-count-words]").forEach(function (el) { el.textContent = count.words; });
    form.querySelectorAll("[data-select-all-text]").forEach(function (el) { el.textContent = count.select_all; });
    var button = form.querySelector("[data-bulk-button]");
    if (button) button.dataset.total = count.total;
    form.dispatchEvent(new Event("selection:changed", { bubbles: true })); // "Mass change (N records)"
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
        return { ok: false, message: window.crmText("no_answer", { status: response.status }) };
      });
    }, function () {
      return { ok: false, message: window.crmText("offline") };
    });
  }

  function putBack(card) {
    card._origin.parent.insertBefore(card, card._origin.next);
  }

  // Focus goes back to the moved card; when it left the board, to the card after it (or the column).
  function focusAfterMove(card, origin) {
    if (document.contains(card)) { card.querySelector(".card-title").focus(); return; }
    var next = origin.next;
    while (next && !(next.nodeType === 1 && next.matches(".deal-card") && document.contains(next))) next = next.nextSibling;
    next = next || origin.parent.querySelector(".deal-card");
    var heading = origin.parent.closest(".board-column").querySelector("h2");
    if (next) next.querySelector(".card-title").focus();
    else { heading.tabIndex = -1; heading.focus(); }
  }

  // Ask (for moves off the board), send, and show the answer; `card._origin` says where it came from.
  function move(board, card, target) {
    var origin = card._origin;
    ask(board, target, card).then(function (ok) {
      if (!ok) { putBack(card); say(window.crmText("nothing_changed")); focusAfterMove(card, origin); return; }
      card.classList.add("saving");
      post(board, card, target).then(function (answer) {
        card.classList.remove("saving");
        if (!answer.ok) { putBack(card); say(answer.message, true); focusAfterMove(card, origin); return; }
        var column = answer.stage_id &&
          board.querySelector('.cards[data-target="stage:' + CSS.escape(String(answer.stage_id)) + '"]');
        if (!column) card.remove(); else if (card.parentNode !== column) column.prepend(card);
        if (column) refreshMenu(card, answer.stage_id);
        updateTotals(board, answer.totals || {});
        updateCount(board, answer.count);
        say(answer.message, false);
        focusAfterMove(card, origin);
      });
    });
  }

  function refreshMenu(card, stageId) {
    var menu = card.querySelector(".move-menu");
    if (!menu) return;
    menu.open = false;
    menu.querySelectorAll('button[name="to"]').forEach(function (button) {
      if (button.value.indexOf("stage:") === 0) button.hidden = button.value === "stage:" + stageId;
    });
  }

  // The "Move to…" menu: the same question and the same request as a drag.
  document.addEventListener("click", function (event) {
    var button = event.target.closest('.move-options button[name="to"]');
    var card = button && button.closest(".deal-card");
    var board = card && card.closest("[data-board]");
    if (!board || !window.fetch) return;
    event.preventDefault();
    card._origin = { parent: card.parentNode, next: card.nextSibling };
    card.querySelector(".move-menu").open = false;
    move(board, card, button.value);
  });

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
        if (evt.to !== evt.from && evt.to.dataset.target) move(board, evt.item, evt.to.dataset.target);
      }
    };
    board.querySelectorAll(".cards").forEach(function (list) { new Sortable(list, options); });
    zones(board).querySelectorAll(".drop-zone").forEach(function (zone) {
      new Sortable(zone, { group: { name: "deals", pull: false, put: true }, draggable: ".deal-card" });
    });
  }

  function start() {
    if (window.htmx) htmx.onLoad(function (elt) { init(elt); });
    init(document);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
