// The opportunity board: drag a card (SortableJS) or use its "Move to…" menu; the move is saved through the
// stage service. On success both columns' totals refresh and an Undo toast shows for a few seconds (Undo
// takes the move back on the server); on a conflict or a refusal the card snaps back and the server's message
// is shown. Dropping on Lost asks why. Users who may not move a deal get neither the menu nor dragging.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var dialog = document.getElementById("loss-dialog");
  var toast = document.getElementById("board-toast");
  var toastTimer = null;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function showToast(text, isError, undo) {
    toast.querySelector("[data-text]").textContent = text;
    toast.classList.toggle("is-error", !!isError);
    var btn = toast.querySelector("[data-undo]");
    btn.hidden = !undo;
    btn.onclick = undo ? function () { hideToast(); undo(); } : null;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(hideToast, 6000);
  }
  function hideToast() { toast.hidden = true; }

  function column(key) { return board.querySelector('.board-col[data-column="' + key + '"]'); }

  function refreshEmpty() {
    board.querySelectorAll(".board-col").forEach(function (col) {
      var empty = col.querySelector(".board-empty");
      if (empty) empty.hidden = !!col.querySelector(".deal-card");
    });
  }

  function updateTotals(columns) {
    Object.keys(columns || {}).forEach(function (key) {
      var col = column(key);
      if (!col) return;
      var t = columns[key];
      var set = function (sel, v) { var el = col.querySelector(sel); if (el) el.textContent = v; };
      set("[data-count]", t.count);
      var box = col.querySelector("[data-totals]");
      if (!box) return;  // amounts hidden from this user
      var open = col.dataset.kind === "open";
      box.replaceChildren.apply(box, (t.totals || []).map(function (m) {
        var line = document.createElement("div");
        var sum = document.createElement("span");
        sum.className = "fw-semibold";
        sum.textContent = m.amount + " " + m.currency;
        line.appendChild(sum);
        if (open) {
          var w = document.createElement("span");
          w.className = "muted";
          w.textContent = "· " + board.dataset.msgWeighted + " " + m.weighted;
          line.append(" ", w);
        }
        return line;
      }));
    });
  }

  function place(card, container, index) {
    var cards = container.querySelectorAll(".deal-card");
    var before = index != null && index < cards.length ? cards[index] : container.querySelector(".board-more, .board-empty");
    container.insertBefore(card, before || null);
    refreshEmpty();
  }

  function markCurrent(card, key) {
    card.querySelectorAll("[data-move-to]").forEach(function (b) { b.disabled = b.dataset.moveTo === key; });
  }

  function post(url, data) {
    var query = board.dataset.filterQuery ? "?" + board.dataset.filterQuery : "";
    return fetch(url + query, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, message: board.dataset.msgFailed }; });
    });
  }

  // Undo a move on the server (a real reversal: the stay is taken back, not a second move); on success the
  // card returns to where it was, on refusal (too late, changed since) it stays and the reason is shown.
  function undoMove(card, url, from, undo) {
    var data = new FormData();
    data.append("version", card.dataset.version);
    data.append("pipeline", board.dataset.pipeline);
    card.classList.add("is-saving");
    return post(url, data).then(function (body) {
      card.classList.remove("is-saving");
      if (body.version) card.dataset.version = body.version;
      if (!body.ok) { showToast(body.message || board.dataset.msgFailed, true); return; }
      place(card, from.container, from.index);
      markCurrent(card, from.key);
      card.dataset.lossReason = undo && undo.loss_reason || "";
      card.dataset.lossNote = undo && undo.loss_note || "";
      updateTotals(body.columns);
      showToast(body.message || board.dataset.msgUndone, false);
    }).catch(function () {
      card.classList.remove("is-saving");
      showToast(board.dataset.msgFailed, true);
    });
  }

  // POST the move; `from` = {container, index, key} to snap back to on failure.
  function move(card, toKey, extra, from) {
    var col = column(toKey);
    var data = new FormData();
    data.append("stage", col.dataset.stage);
    data.append("version", card.dataset.version);
    data.append("pipeline", board.dataset.pipeline);
    Object.keys(extra || {}).forEach(function (k) { data.append(k, extra[k]); });
    card.classList.add("is-saving");
    return post(card.dataset.moveUrl, data).then(function (body) {
      card.classList.remove("is-saving");
      if (!body.ok) {
        place(card, from.container, from.index);
        markCurrent(card, from.key);
        if (body.version) card.dataset.version = body.version;
        showToast(body.message || board.dataset.msgFailed, true);
        return;
      }
      card.dataset.version = body.version;
      card.dataset.lossReason = extra && extra.loss_reason || "";
      card.dataset.lossNote = extra && extra.loss_note || "";
      markCurrent(card, toKey);
      updateTotals(body.columns);
      var undo = body.undo;
      var url = body.undo_url || card.dataset.undoUrl;
      showToast(body.message, false, url ? function () { undoMove(card, url, from, undo); } : null);
    }).catch(function () {
      card.classList.remove("is-saving");
      place(card, from.container, from.index);
      markCurrent(card, from.key);
      showToast(board.dataset.msgFailed, true);
    });
  }

  // Dropping on Lost first asks for the reason; cancelling snaps the card back.
  function dropped(card, toKey, from) {
    if (toKey === from.key) return;
    var col = column(toKey);
    if (col.dataset.kind === "lost") {
      var form = dialog.querySelector("form");
      form.reset();
      dialog.returnValue = "";
      dialog.onclose = function () {
        dialog.onclose = null;
        if (dialog.returnValue !== "ok") { place(card, from.container, from.index); return; }
        move(card, toKey, {
          loss_reason: dialog.querySelector("[name=loss_reason]").value,
          loss_note: dialog.querySelector("[name=loss_note]").value
        }, from);
      };
      dialog.showModal();
      return;
    }
    move(card, toKey, {}, from);
  }

  function where(card) {
    var container = card.parentNode;
    return {
      container: container,
      index: Array.prototype.indexOf.call(container.querySelectorAll(".deal-card"), card),
      key: container.closest(".board-col").dataset.column
    };
  }

  board.addEventListener("keydown", function (e) {
    var card = e.target.closest(".deal-card");
    if (!card || e.target !== card) return;
    var menu = card.querySelector(".deal-menu");
    if (e.key === "Enter") { card.querySelector(".deal-name").click(); }
    else if ((e.key === "m" || e.key === "M") && menu) { e.preventDefault(); menu.click(); }
  });
  refreshEmpty();
  if (!board.hasAttribute("data-can-move")) return;  // read only: no dragging, no menu (not rendered)

  var starts = new WeakMap();
  board.querySelectorAll("[data-cards]").forEach(function (el) {
    if (typeof Sortable === "undefined") return;
    Sortable.create(el, {
      group: "deals", draggable: ".deal-card", filter: ".deal-menu, .dropdown-menu", preventOnFilter: false,
      animation: 120, delay: 150, delayOnTouchOnly: true, ghostClass: "is-ghost",
      onStart: function (evt) {
        starts.set(evt.item, { container: evt.from, index: evt.oldDraggableIndex, key: evt.from.closest(".board-col").dataset.column });
      },
      onEnd: function (evt) {
        var from = starts.get(evt.item);
        if (evt.to === evt.from) { place(evt.item, from.container, from.index); return; }  // order is by amount
        refreshEmpty();
        dropped(evt.item, evt.to.closest(".board-col").dataset.column, from);
      }
    });
  });

  // The keyboard and phone alternative: each card's "Move to…" menu.
  board.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-move-to]");
    if (!btn) return;
    var card = btn.closest(".deal-card");
    var from = where(card);
    var target = column(btn.dataset.moveTo);
    place(card, target.querySelector("[data-cards]"), 0);
    dropped(card, btn.dataset.moveTo, from);
    card.focus();
  });
  // cards loaded by "Load more" join the drag group automatically (same container)
})();
