// Body map keyboard and touch support. The map is one Tab stop (roving tabindex: the region the
// keyboard was last on has tabindex 0, every other -1); arrow keys move to the nearest region in
// that direction, across both views; Enter or Space opens the form (SVG elements do not turn them
// into a click the way <button> does, and htmx listens for the click); Escape closes the form and
// puts the focus back on the region it was opened from. The focused region's name is written beside
// the map so sighted keyboard users see where they are.
//
// "Select several": in that mode a click (or Enter/Space) on a region toggles it instead of opening
// the form; the bar above the map says what is selected ("3 parts selected: …") and its "Record pain
// for these" button opens one form for all of them. A save swaps the saved regions out of band
// (their selection with them), so the mode ends there.
"use strict";
/* global gettext, ngettext, interpolate: Django's catalog, inline in every page (base.html). */

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

// A region's accessible name carries its state ("Left knee, no pain recorded"), except an
// unrecorded region of a read-only map (the digest's), which is named only.
function describe(region) {
  let name = (region.getAttribute("aria-label") || region.dataset.label || "").trim();
  const recorded = Array.from(region.classList).some((c) => c.startsWith("level-"));
  if (!recorded && !region.hasAttribute("hx-get")) {
    name = interpolate(gettext("%(name)s — nothing recorded"), { name }, true);
  }
  return region.classList.contains("is-selected")
    ? interpolate(gettext("%(name)s — selected"), { name }, true)
    : name;
}

const selection = {
  on: false,
  names: [], // in the order they were chosen, as the form will list them
};

function selectBar() {
  return {
    bar: document.getElementById("map-select"),
    toggle: document.getElementById("map-select-toggle"),
    status: document.getElementById("map-select-status"),
    actions: document.getElementById("map-select-actions"),
    record: document.getElementById("map-select-record"),
  };
}

function regionNamed(name) {
  return document.getElementById(`region-${name}`);
}

function showSelection() {
  const { toggle, status, actions, record } = selectBar();
  if (!toggle) return;
  toggle.setAttribute("aria-pressed", String(selection.on));
  toggle.textContent = selection.on ? gettext("Done selecting") : gettext("Select several");
  document.getElementById("body-map")?.classList.toggle("is-selecting", selection.on);
  for (const region of regions()) {
    if (!region.hasAttribute("hx-get")) continue;
    const chosen = selection.on && selection.names.includes(region.dataset.bodyPart);
    region.classList.toggle("is-selected", chosen);
    if (selection.on) region.setAttribute("aria-pressed", String(chosen));
    else region.removeAttribute("aria-pressed");
  }
  actions.hidden = !selection.on;
  record.disabled = selection.names.length === 0;
  if (!selection.on) {
    status.textContent = "";
    return;
  }
  const labels = selection.names.map((name) => regionNamed(name)?.dataset.label || name);
  const count = labels.length;
  status.textContent =
    count === 0
      ? gettext("Select the parts that hurt: click or press Enter on each.")
      : interpolate(
          ngettext("%(count)s part selected: %(parts)s", "%(count)s parts selected: %(parts)s", count),
          { count, parts: labels.join(", ") },
          true,
        );
}

function setSelecting(on) {
  selection.on = on;
  if (!on) selection.names = [];
  showSelection();
}

function toggleRegion(region) {
  const name = region.dataset.bodyPart;
  const at = selection.names.indexOf(name);
  if (at === -1) selection.names.push(name);
  else selection.names.splice(at, 1);
  showSelection();
}

function recordSelected() {
  const { record } = selectBar();
  if (!selection.names.length || !window.htmx) return;
  const query = new URLSearchParams(selection.names.map((name) => ["part", name]));
  openedFrom = regionNamed(selection.names[0])?.id || null;
  window.htmx.ajax("GET", `${record.dataset.url}?${query}`, { target: "#entry-panel", swap: "outerHTML" });
}

function initSelectBar() {
  const { bar, toggle, record } = selectBar();
  if (!bar || bar.dataset.ready) return;
  bar.dataset.ready = "1";
  bar.hidden = false; // without this script the bar stays hidden: it would do nothing
  toggle.addEventListener("click", () => setSelecting(!selection.on));
  record.addEventListener("click", recordSelected);
  document.getElementById("map-select-clear").addEventListener("click", () => {
    selection.names = [];
    showSelection();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initSelectBar);
else initSelectBar();

// In select mode a region's click toggles it; caught on the way down, before htmx (listening on
// the region itself) would open the form.
document.addEventListener(
  "click",
  (event) => {
    if (!selection.on) return;
    let target = event.target;
    if (target instanceof SVGElement && target.classList.contains("body-region-hit")) {
      target = regionNamed(target.dataset.hitFor);
    }
    if (!(target instanceof SVGElement) || !target.classList.contains("body-region")) return;
    if (!target.hasAttribute("hx-get")) return;
    event.stopPropagation();
    event.preventDefault();
    toggleRegion(target);
  },
  true,
);

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof SVGElement && target.classList.contains("body-region")) {
    if (event.key === "Escape" && selection.on) {
      event.preventDefault();
      setSelecting(false);
      return;
    }
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
  const cancel = document.querySelector("#entry-panel form a.entry-cancel");
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
  if (target instanceof SVGElement && target.classList.contains("body-region")) {
    caption.textContent = describe(target);
    caption.dataset.region = target.id;
  }
});

// A save swaps the regions it changed: the caption naming one of them says its new state.
document.addEventListener("htmx:afterSettle", () => refreshCaption());

function refreshCaption() {
  const caption = document.getElementById("body-map-focus");
  const region = caption?.dataset.region && document.getElementById(caption.dataset.region);
  if (region) caption.textContent = describe(region);
}

// On a phone the form opens below the map, out of sight: bring it up when it is far down the
// screen. On a laptop it sits beside the map and nothing moves.
document.addEventListener("htmx:afterSettle", (event) => {
  const panel = event.target;
  if (!(panel instanceof HTMLElement) || panel.id !== "entry-panel") return;
  if (!panel.querySelector("form")) {
    if (panel.querySelector("#entry-saved")) {
      if (selection.on) setSelecting(false);
      panel.querySelector("#entry-saved").focus();
      openedFrom = null;
      return;
    }
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
