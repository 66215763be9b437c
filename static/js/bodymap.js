// Body map keyboard and touch support. The map is one Tab stop (roving tabindex: the region the
// keyboard was last on has tabindex 0, every other -1); arrow keys move to the nearest region in
// that direction, across both views; Enter or Space opens the form (SVG elements do not turn them
// into a click the way <button> does, and htmx listens for the click); Escape closes the form and
// puts the focus back on the region it was opened from. The focused region's name is written beside
// the map so sighted keyboard users see where they are.
"use strict";

const regions = () => Array.from(document.querySelectorAll("#body-map .body-region"));
let openedFrom = null; // the id of the region whose form is open, to return to on Escape
let returnFocus = false;

function centre(el) {
  const box = el.getBoundingClientRect();
  return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
}

// The nearest region whose centre lies in the arrow's direction; off-axis distance counts double,
// so Down goes to the region below rather than a near one beside it.
function neighbour(from, key) {
  const a = centre(from);
  const [dx, dy] = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] }[key];
  let best = null;
  let bestScore = Infinity;
  for (const other of regions()) {
    if (other === from) continue;
    const b = centre(other);
    const along = (b.x - a.x) * dx + (b.y - a.y) * dy;
    if (along <= 1) continue;
    const across = Math.abs((b.x - a.x) * dy + (b.y - a.y) * dx);
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = other;
    }
  }
  return best;
}

function moveTo(region) {
  for (const other of regions()) other.setAttribute("tabindex", other === region ? "0" : "-1");
  region.focus();
}

function describe(region) {
  const title = region.querySelector("title");
  const name = (title ? title.textContent : region.getAttribute("aria-label")).trim();
  const recorded = Array.from(region.classList).some((name) => name.startsWith("level-"));
  return recorded ? name : `${name} — nothing recorded`;
}

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof SVGElement && target.classList.contains("body-region")) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault(); // Space would scroll the page
      target.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
      return;
    }
    let next = null;
    if (event.key.startsWith("Arrow")) next = neighbour(target, event.key);
    else if (event.key === "Home") next = regions()[0];
    else if (event.key === "End") next = regions().at(-1);
    else if (event.key === "Escape" && openedFrom) closeForm();
    else return;
    event.preventDefault(); // arrows would scroll the page
    if (next) moveTo(next);
    return;
  }
  if (event.key === "Escape" && openedFrom && target instanceof Element && target.closest("#entry-panel")) {
    event.preventDefault();
    closeForm();
  }
});

function closeForm() {
  const cancel = document.querySelector("#entry-panel form a[hx-get][hx-select='#entry-panel']");
  returnFocus = true;
  if (cancel) cancel.click();
  else restoreFocus();
}

function restoreFocus() {
  const region = openedFrom && document.getElementById(openedFrom);
  openedFrom = null;
  returnFocus = false;
  if (region) moveTo(region);
}

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof SVGElement)) return;
  // A small region's widened hit area hands its click to the region itself.
  if (target.classList.contains("body-region-hit")) {
    const region = document.getElementById(`region-${target.dataset.hitFor}`);
    if (region) region.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
    return;
  }
  if (target.classList.contains("body-region") && target.hasAttribute("hx-get")) {
    openedFrom = target.id;
    for (const other of regions()) other.setAttribute("tabindex", other === target ? "0" : "-1");
  }
});

document.addEventListener("focusin", (event) => {
  const caption = document.getElementById("body-map-focus");
  const target = event.target;
  if (!caption) return;
  if (target instanceof SVGElement && target.classList.contains("body-region")) caption.textContent = describe(target);
});

// On a phone the form opens below the map, out of sight: bring it up when it is far down the
// screen. On a laptop it sits beside the map and nothing moves.
document.addEventListener("htmx:afterSettle", (event) => {
  const panel = event.target;
  if (!(panel instanceof HTMLElement) || panel.id !== "entry-panel") return;
  if (!panel.querySelector("form")) {
    if (returnFocus) restoreFocus();
    else openedFrom = null;
    return;
  }
  const top = panel.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.5) {
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    panel.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
  }
});
