// Keyboard shortcuts of the moderation queue, as in Coral Talk. Everything also works
// without this script: these keys only press the page's own buttons.
"use strict";
(function () {
  const cards = Array.from(document.querySelectorAll(".card"));
  let current = 0;
  function focusCard(i) {
    if (cards.length === 0) return;
    current = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach(function (c) { c.classList.remove("focused"); });
    const card = cards[current];
    card.classList.add("focused");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }
  focusCard(0);
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    // Text fields keep their keys; a label toggle just clicked does not.
    if (t.matches && t.matches("input:not([type=checkbox]):not([type=radio]), textarea, select")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    const help = document.getElementById("help");
    const card = cards[current];
    switch (e.key) {
      case "j": focusCard(current + 1); break;
      case "k": focusCard(current - 1); break;
      case "f": if (card) card.querySelector("form.decision button.approve").click(); break;
      case "d":
        if (card) card.querySelector("form.decision input[name=reason]").focus();
        break;
      case "x":
        if (card) { const box = card.querySelector("input[type=checkbox][name=item]"); if (box) box.checked = !box.checked; }
        break;
      case "?": if (help) help.hidden = !help.hidden; break;
      default: {
        const n = "123456789".indexOf(e.key);
        const toggles = card ? card.querySelectorAll("form.decision input[name=label]") : [];
        if (n < 0 || n >= toggles.length) return;
        toggles[n].checked = !toggles[n].checked;
      }
    }
    e.preventDefault();
  });
})();
