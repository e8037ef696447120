// Progressive enhancement only: every page works without it.
// Moves the focus to the error summary (or the page's notice) when a page shows one.
document.addEventListener("DOMContentLoaded", function () {
  var target = document.querySelector("[data-focus]");
  if (target) { target.focus(); }
  document.querySelectorAll("form[data-un-envoi]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
  document.querySelectorAll("button[data-imprimer]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
});
