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
