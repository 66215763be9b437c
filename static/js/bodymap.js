// Body map keyboard support: a region is a focusable role="button" <path>, and SVG elements do not
// turn Enter/Space into a click the way <button> does. htmx listens for the click.
"use strict";
document.addEventListener("keydown", (event) => {
  const region = event.target;
  if (!(region instanceof SVGElement) || !region.classList.contains("body-region")) return;
  if (event.key !== "Enter" && event.key !== " ") return;
  event.preventDefault(); // Space would scroll the page
  region.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
});

// On a phone the form opens below the map, out of sight: bring it up when it is far down the
// screen. On a laptop it sits beside the map and nothing moves.
document.addEventListener("htmx:afterSettle", (event) => {
  const panel = event.target;
  if (!(panel instanceof HTMLElement) || panel.id !== "entry-panel" || !panel.querySelector("form")) return;
  const top = panel.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.5) {
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    panel.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
  }
});
