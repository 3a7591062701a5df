// Kehu's small amount of page behaviour: the Ctrl+K search shortcut, select-all for bulk actions, moving
// through a list by keyboard, the "?" shortcuts window, and a visible message when an htmx request fails.
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    var input = document.getElementById("global-search");
    if (!input) return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
      e.preventDefault();
      input.focus();
      input.select();
    } else if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      e.preventDefault();
      input.focus();
    } else if (e.key === "Escape" && document.activeElement === input) {
      document.getElementById("search-pop").innerHTML = "";
      input.blur();
    }
  });
  // Arrow keys move through the search suggestions; Enter opens the highlighted one.
  document.addEventListener("keydown", function (e) {
    var pop = document.getElementById("search-pop");
    if (!pop || !pop.contains(document.activeElement) && document.activeElement.id !== "global-search") return;
    var items = Array.prototype.slice.call(pop.querySelectorAll("a.search-hit"));
    if (!items.length || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    var i = items.indexOf(document.activeElement);
    i = e.key === "ArrowDown" ? Math.min(i + 1, items.length - 1) : i - 1;
    if (i < 0) document.getElementById("global-search").focus(); else items[i].focus();
  });
  document.addEventListener("click", function (e) {
    var pop = document.getElementById("search-pop");
    if (pop && !e.target.closest(".global-search")) pop.innerHTML = "";
    var all = e.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll("input[name=ids]").forEach(function (cb) { cb.checked = all.checked; });
    }
    // On a phone the list is cards: their boxes stand for the table's (hidden) ones, which the form sends.
    var card = e.target.closest("[data-card-for]");
    if (card) {
      var row = document.querySelector('input[name=ids][value="' + card.dataset.cardFor + '"]');
      if (row) row.checked = card.checked;
    }
    var bar = document.getElementById("bulk-bar");
    if (bar && e.target.matches("input[name=ids], [data-select-all], [data-card-for]")) {
      var boxes = document.querySelectorAll("input[name=ids]");
      var n = document.querySelectorAll("input[name=ids]:checked").length;
      document.querySelectorAll("[data-card-for]").forEach(function (cb) {
        var twin = document.querySelector('input[name=ids][value="' + cb.dataset.cardFor + '"]');
        cb.checked = !!(twin && twin.checked);
      });
      document.querySelectorAll("[data-select-all]").forEach(function (cb) { cb.checked = n > 0 && n === boxes.length; });
      bar.hidden = n === 0;
      bar.querySelector("[data-count]").textContent = n;
      // every row of this page chosen: offer the whole list (its other pages too); any other choice undoes it
      var offer = bar.querySelector("[data-select-matching]");
      if (offer) offer.hidden = n !== boxes.length;
      setMatching(bar, false);
    }
    if (bar && e.target.closest("[data-select-matching]")) setMatching(bar, true);
  });
  function setMatching(bar, on) {
    bar.querySelector("[data-all-matching]").value = on ? "1" : "";
    var note = bar.querySelector("[data-matching-note]");
    if (note) note.hidden = !on;
    bar.querySelector("[data-selected]").hidden = on;
    var offer = bar.querySelector("[data-select-matching]");
    if (offer && on) offer.hidden = true;
  }
  // "?" shows the keyboard shortcuts (base.html), wherever no text is being typed.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName) || document.activeElement.isContentEditable) return;
    var dialog = document.getElementById("shortcuts");
    if (!dialog || !window.bootstrap) return;
    e.preventDefault();
    bootstrap.Modal.getOrCreateInstance(dialog).show();
  });
  // Lists by keyboard: j / k move through the rows, Enter or o opens the marked one, x ticks it for a bulk action.
  document.addEventListener("keydown", function (e) {
    var body = document.getElementById("rows");
    if (!body || e.ctrlKey || e.metaKey || e.altKey || body.offsetParent === null) return;
    if (/INPUT|TEXTAREA|SELECT|BUTTON/.test(document.activeElement.tagName) && document.activeElement.type !== "checkbox") return;
    var rows = Array.prototype.slice.call(body.querySelectorAll("tr"));
    if (!rows.length) return;
    var current = body.querySelector("tr.kbd-active");
    var i = rows.indexOf(current);
    if (e.key === "j" || e.key === "k") {
      e.preventDefault();
      i = e.key === "j" ? Math.min(i + 1, rows.length - 1) : Math.max(i - 1, 0);
      if (current) current.classList.remove("kbd-active");
      rows[i].classList.add("kbd-active");
      rows[i].scrollIntoView({ block: "nearest" });
    } else if (current && (e.key === "Enter" || e.key === "o") && document.activeElement.tagName !== "A") {
      var link = current.querySelector("a.row-link");
      if (link) { e.preventDefault(); link.click(); }
    } else if (current && e.key === "x") {
      var box = current.querySelector("input[name=ids]");
      if (box) { e.preventDefault(); box.click(); }
    }
  });
  document.addEventListener("htmx:responseError", function () { showError(); });
  document.addEventListener("htmx:sendError", function () { showError(); });
  function showError() {
    var t = document.getElementById("htmx-error");
    if (!t) return;
    t.hidden = false;
    setTimeout(function () { t.hidden = true; }, 5000);
  }
})();
// Lookup pickers (core/widgets/lookup.html): choosing a suggestion fills the hidden id and the visible text;
// editing the text again clears the id until something is picked.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var pick = e.target.closest("[data-lookup-pick]");
    var box = e.target.closest("[data-lookup]");
    if (pick && box) {
      e.preventDefault();
      box.querySelector("[data-lookup-value]").value = pick.dataset.lookupPick;
      box.querySelector("[data-lookup-text]").value = pick.dataset.lookupLabel;
      box.querySelector(".lookup-pop").innerHTML = "";
      return;
    }
    document.querySelectorAll(".lookup-pop").forEach(function (p) { if (!p.parentNode.contains(e.target)) p.innerHTML = ""; });
  });
  document.addEventListener("input", function (e) {
    if (e.target.matches("[data-lookup-text]")) {
      var hidden = e.target.closest("[data-lookup]").querySelector("[data-lookup-value]");
      if (!e.target.value) hidden.value = "";
    }
  });
})();
