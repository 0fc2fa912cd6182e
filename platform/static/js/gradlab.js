// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSettle", (event) => {
  // After htmx swaps in another lesson, move keyboard and screen-reader focus to its title.
  const heading = event.target.id === "lesson-main" && event.target.querySelector("h1");
  if (heading) heading.focus({ preventScroll: true });
});
