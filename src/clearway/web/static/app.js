// Clearway pages work without JavaScript; this only adds comfort:
// - asks before irreversible actions (data-confirm);
// - moves focus to the answer or to the first field in error (data-focus), so keyboard and
//   screen-reader users land where the page changed;
// - shows times (<time datetime>) in the reader's own time zone and language.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const target = document.querySelector("[data-focus]");
  if (target) {
    target.focus();
    target.scrollIntoView({ block: "center" });
  }
  const lang = document.documentElement.lang || undefined;
  const style = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  for (const el of document.querySelectorAll("time[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime()) && el.getAttribute("datetime").includes("T")) {
      el.title = el.textContent;
      el.textContent = style.format(at);
    }
  }
});
